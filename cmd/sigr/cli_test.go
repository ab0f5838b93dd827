package main

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sigr-dev/sigr/internal/syncbuf"
)

// ttyBuffer stands in for a terminal: a buffer that says it is one (see
// isTerminal), width cells wide (0: unknown).
type ttyBuffer struct {
	syncbuf.Buffer
	width int
}

func (b *ttyBuffer) IsTerminal() bool { return true }
func (b *ttyBuffer) Width() int       { return b.width }

// cliRun is what a run of the whole command tree did.
type cliRun struct {
	code           int
	stdout, stderr string
}

// runCLI runs sigr with args as main does, on a standard output that is
// a terminal when tty is set, and returns the exit status and output.
func runCLI(t *testing.T, tty bool, stdin string, args ...string) cliRun {
	t.Helper()
	var stdout interface {
		Write([]byte) (int, error)
		String() string
	} = &syncbuf.Buffer{}
	if tty {
		stdout = &ttyBuffer{}
	}
	var stderr syncbuf.Buffer
	code := execute(context.Background(), args, strings.NewReader(stdin), stdout, &stderr)
	return cliRun{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// TestNotATerminal: the full-screen commands refuse a pipe or a file on
// standard output, with a pointer to what works there, before touching
// the network; nothing reaches standard output.
func TestNotATerminal(t *testing.T) {
	t.Setenv(connectionStringEnv, "")
	for _, args := range [][]string{
		{"http://127.0.0.1:1/api"},
		{"connect", "http://127.0.0.1:1/api", "--user", "alice"},
		{"demo"},
	} {
		r := runCLI(t, false, "", args...)
		if r.code != exitUsage || r.stdout != "" {
			t.Errorf("sigr %v: exit %d, stdout %q", args, r.code, r.stdout)
		}
		if !strings.Contains(r.stderr, "standard output is not a terminal") || !strings.Contains(r.stderr, "sigr watch") ||
			strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("sigr %v: stderr %q", args, r.stderr)
		}
	}
	if r := runCLI(t, false, "", "http://127.0.0.1:1/api"); !strings.HasPrefix(r.stderr, "sigr: sigr URL opens a full-screen interface") {
		t.Errorf("root: %q", r.stderr)
	}

	// What counts as a terminal.
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	if isTerminal(pw) || isTerminal(&syncbuf.Buffer{}) || !isTerminal(&ttyBuffer{}) {
		t.Error("isTerminal: a pipe or a buffer is a terminal, or the stand-in is not")
	}
	if requireTerminal(&ttyBuffer{}, "x", "y") != nil {
		t.Error("a terminal is refused")
	}
}

// TestCommandLineMistakes runs each mistake the issue lists, and the
// command lines that must keep working, and checks the exit status and
// the one line on standard error.
func TestCommandLineMistakes(t *testing.T) {
	t.Setenv(connectionStringEnv, "")
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string // a part of standard error; "" wants it empty
		stdout string // a part of standard output
	}{
		// A bare word: neither a command nor a URL, and it says both.
		{[]string{"emultor"}, 2, `sigr: "emultor" is not a command; did you mean emulator? and not a URL: a URL starts with http:// or https://`, ""},
		{[]string{"nosuch"}, 2, `"nosuch" is not a command (sigr --help lists them) and not a URL: a URL starts with http:// or https://`, ""},
		{[]string{"Watch"}, 2, `did you mean watch?`, ""},
		{[]string{"watchh", "http://127.0.0.1:1/api", "--count", "3"}, 2, `"watchh" is not a command; did you mean watch?`, ""},
		{[]string{"emultor", "--functions-addr", "x"}, 2, `did you mean emulator?`, ""},
		// Unknown subcommands, and help on them.
		{[]string{"token", "inspekt", "x"}, 2, `sigr: "inspekt" is not a command of sigr token; did you mean inspect?`, ""},
		{[]string{"group", "list", "http://127.0.0.1:1/api"}, 2, `"list" is not a command of sigr group: its commands are add and remove`, ""},
		{[]string{"group", "ad", "http://127.0.0.1:1/api", "--group", "g"}, 2, `"ad" is not a command of sigr group; did you mean add?`, ""},
		{[]string{"help", "nosuch"}, 2, `"nosuch" is not a command of sigr; sigr --help lists them`, ""},
		{[]string{"help", "emultor"}, 2, `did you mean emulator?`, ""},
		{[]string{"help", "token", "inspekt"}, 2, `"inspekt" is not a command of sigr token; did you mean inspect?`, ""},
		{[]string{"completion", "nosuch"}, 2, `"nosuch" is not a command of sigr completion: its commands are bash, fish, powershell and zsh`, ""},
		// Flags and argument counts.
		{[]string{"http://127.0.0.1:1/api", "--bogus"}, 2, "unknown flag: --bogus; sigr --help lists the flags", ""},
		{[]string{"watch", "--bogus", "http://127.0.0.1:1/api"}, 2, "unknown flag: --bogus; sigr watch --help lists the flags", ""},
		{[]string{"watch", "http://127.0.0.1:1/a", "http://127.0.0.1:1/b"}, 2, "sigr: watch: accepts at most 1 arg(s), received 2", ""},
		{[]string{"group", "add", "a", "b"}, 2, "sigr: group add: accepts at most 1 arg(s), received 2", ""},
		{[]string{"http://127.0.0.1:1/a", "http://127.0.0.1:1/b"}, 2, "sigr URL takes one URL, and 2 arguments were given", ""},
		{[]string{"watch", "--format", "yaml", "http://127.0.0.1:1/api"}, 2, `--format "yaml": use json or text`, ""},
		{[]string{"watch", "--format", "text", "--raw", "http://127.0.0.1:1/api"}, 2, "use it with --format json", ""},
		// -v is --verbose; the version is --version alone.
		{[]string{"-v"}, 2, "unknown shorthand flag: 'v' in -v: the version is --version; -v is --verbose", ""},
		{[]string{"--version"}, 0, "", "sigr version "},
		// Help still works, and exits 0.
		{nil, 0, "", "Start with:  sigr demo"},
		{[]string{"--help"}, 0, "", "Available Commands:"},
		{[]string{"help"}, 0, "", "Available Commands:"},
		{[]string{"help", "token", "inspect"}, 0, "", "inspect decodes a JWT"},
		{[]string{"token"}, 0, "", "sigr token [command]"},
		{[]string{"group", "--help"}, 0, "", "sigr group [command]"},
		{[]string{"completion", "bash"}, 0, "", "bash completion V2 for sigr"},
	} {
		r := runCLI(t, false, "", tc.args...)
		if r.code != tc.code {
			t.Errorf("sigr %q: exit %d, want %d (stderr %q)", tc.args, r.code, tc.code, r.stderr)
		}
		if tc.stderr == "" && r.stderr != "" || !strings.Contains(r.stderr, tc.stderr) {
			t.Errorf("sigr %q: stderr %q, want %q", tc.args, r.stderr, tc.stderr)
		}
		if tc.stderr != "" && (strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "sigr: ")) {
			t.Errorf("sigr %q: stderr is not one line: %q", tc.args, r.stderr)
		}
		if !strings.Contains(r.stdout, tc.stdout) || (tc.stdout == "" && r.stdout != "") {
			t.Errorf("sigr %q: stdout %q, want %q", tc.args, r.stdout, tc.stdout)
		}
		if strings.Contains(r.stderr+r.stdout, "unknown flag: --group") || strings.Contains(r.stderr, "must be absolute") {
			t.Errorf("sigr %q: an old message: %q", tc.args, r.stderr)
		}
	}
}

// TestVerboseIsV: -v means --verbose on every command that has it, and
// no command has a -v that means something else.
func TestVerboseIsV(t *testing.T) {
	root := newRootCmd()
	if f := root.Flags().Lookup("version"); f == nil || f.Shorthand != "" {
		t.Errorf("the root's --version: %+v", f)
	}
	var seen []string
	eachCommand(root, func(c *cobra.Command) {
		if f := c.Flags().ShorthandLookup("v"); f != nil {
			seen = append(seen, c.Name())
			if f.Name != "verbose" {
				t.Errorf("sigr %s: -v is --%s", c.CommandPath(), f.Name)
			}
		}
	})
	if strings.Join(seen, " ") != "invoke watch" {
		t.Errorf("-v on %v, want watch and invoke", seen)
	}
}

// TestMissingSchemeEverywhere: every command that takes a URL says, for a
// URL without its scheme, that the scheme is missing and shows the URL
// with it, before any network use.
func TestMissingSchemeEverywhere(t *testing.T) {
	t.Setenv(connectionStringEnv, "")
	const want = `URL "127.0.0.1:17071/api" is missing its scheme (http:// or https://); did you mean http://127.0.0.1:17071/api?`
	for _, args := range [][]string{
		{"127.0.0.1:17071/api"},
		{"connect", "127.0.0.1:17071/api"},
		{"watch", "127.0.0.1:17071/api"},
		{"send", "127.0.0.1:17071/api", "--target", "x", "hi"},
		{"invoke", "127.0.0.1:17071/api", "--target", "echo", "hi"},
		{"group", "add", "127.0.0.1:17071/api", "--group", "g", "--to-user", "alice"},
		{"bench", "127.0.0.1:17071/api", "--duration", "1s"},
		{"trace", "127.0.0.1:17071/api"},
	} {
		r := runCLI(t, true, "", args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, want) || strings.Contains(r.stderr, "first path segment") {
			t.Errorf("sigr %q: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
	// With a connection string the first word may be an argument; one
	// with a port or a path is still taken for a URL, not sent as text.
	t.Setenv(connectionStringEnv, "Endpoint=http://127.0.0.1;Port=1;AccessKey=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH;Version=1.0;")
	r := runCLI(t, false, "", "send", "localhost:7071/api", "--target", "x", "hi")
	if r.code != exitUsage || !strings.Contains(r.stderr, "did you mean http://localhost:7071/api?") {
		t.Errorf("send with a connection string: exit %d, %q", r.code, r.stderr)
	}
}

// TestCompletionValues: shell completion offers the values of --transport
// and --format.
func TestCompletionValues(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "watch", "--transport", ""}, []string{"websockets", "sse", "longpolling"}},
		{[]string{"__complete", "invoke", "--transport", ""}, []string{"websockets", "sse", "longpolling"}},
		{[]string{"__complete", "--transport", ""}, []string{"websockets", "sse", "longpolling"}},
		{[]string{"__complete", "connect", "--transport", ""}, []string{"websockets", "sse", "longpolling"}},
		{[]string{"__complete", "watch", "--format", ""}, []string{"json", "text"}},
		{[]string{"__complete", "help", "tok"}, []string{"token"}},
	} {
		r := runCLI(t, false, "", tc.args...)
		var got []string
		for _, l := range strings.Split(r.stdout, "\n") {
			if l != "" && !strings.HasPrefix(l, ":") {
				name, _, _ := strings.Cut(l, "\t")
				got = append(got, name)
			}
		}
		if r.code != 0 || strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%q: exit %d, offered %q, want %q", tc.args, r.code, got, tc.want)
		}
	}
}

// TestFlagDefaultsShownOnce: no flag's help says its default twice (once
// in its text and once as pflag's "(default ...)").
func TestFlagDefaultsShownOnce(t *testing.T) {
	defaults := regexp.MustCompile(`(?i)\bdefault\b`)
	eachCommand(newRootCmd(), func(c *cobra.Command) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			fs := pflag.NewFlagSet("", pflag.ContinueOnError)
			fs.AddFlag(f)
			line := fs.FlagUsages()
			if n := len(defaults.FindAllString(line, -1)); n > 1 {
				t.Errorf("sigr %s: %s", c.CommandPath(), strings.TrimSpace(line))
			}
		})
	})
	if r := runCLI(t, false, "", "demo", "--help"); r.code != 0 || strings.Count(r.stdout, `(default "127.0.0.1:0")`) != 2 {
		t.Errorf("demo --help: exit %d\n%s", r.code, r.stdout)
	}
}

func eachCommand(c *cobra.Command, fn func(*cobra.Command)) {
	fn(c)
	for _, sub := range c.Commands() {
		eachCommand(sub, fn)
	}
}
