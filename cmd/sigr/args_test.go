package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/protocol"
)

func TestParseArgs(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want string
	}{
		{nil, `[]`},
		{[]string{"hello"}, `["hello"]`},
		{[]string{"42", "true", "null", `{"a":1}`, `"quoted"`, " [1, 2] "}, `[42,true,null,{"a":1},"quoted",[1, 2]]`},
		{[]string{"two words", "1.2.3", "007", "-", ""}, `["two words","1.2.3","007","-",""]`},
		{[]string{`"{bad json"`}, `["{bad json"]`},
	} {
		got, err := parseArgs(c.in)
		if err != nil || string(got) != c.want {
			t.Errorf("parseArgs(%q) = %s, %v; want %s", c.in, got, err, c.want)
		}
	}
	for _, c := range []struct {
		in   []string
		want string
	}{
		{[]string{"{bad json"}, "argument 1 ({bad json) looks like JSON but does not parse: invalid character 'b' looking for beginning of object key string at byte 2"},
		{[]string{"ok", "[1,"}, "argument 2 ([1,) looks like JSON but does not parse: unexpected end of JSON input at byte 3"},
		{[]string{`"unterminated`}, `argument 1 ("unterminated) looks like JSON but does not parse: unexpected end of JSON input`},
		{[]string{"{\x1b[2J"}, `argument 1 ({\x1b[2J) looks like JSON`},
	} {
		_, err := parseArgs(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "quote it as a JSON string") {
			t.Errorf("parseArgs(%q) = %v, want %q", c.in, err, c.want)
		} else if strings.ContainsRune(err.Error(), 0x1b) {
			t.Errorf("parseArgs(%q): an escape in %q", c.in, err)
		}
	}
}

func TestReadArgs(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "args.json")
	if err := os.WriteFile(file, []byte(" [\"alice\", 42]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := readArgs(nil, nil, file); err != nil || string(got) != `["alice", 42]` {
		t.Errorf("from a file: %s, %v", got, err)
	}
	if got, err := readArgs(strings.NewReader(`[{"a":1}]`), nil, "-"); err != nil || string(got) != `[{"a":1}]` {
		t.Errorf("from standard input: %s, %v", got, err)
	}
	for _, c := range []struct {
		stdin string
		words []string
		want  string
	}{
		{`[1]`, []string{"x"}, "not both"},
		{`{"a":1}`, nil, "standard input must hold one JSON array of arguments"},
		{``, nil, "standard input must hold one JSON array"},
		{`[1,`, nil, "standard input must hold one JSON array of arguments, e.g. [\"alice\", 42]: unexpected end of JSON input at byte 3"},
		{strings.Repeat(" ", maxArgsFile+1), nil, "holds more than 16 MiB"},
	} {
		if _, err := readArgs(strings.NewReader(c.stdin), c.words, "-"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("readArgs(%.20q, %q) = %v, want %q", c.stdin, c.words, err, c.want)
		}
	}
	if _, err := readArgs(nil, nil, filepath.Join(dir, "nonexistent")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("a missing file: %v", err)
	}
}

// TestSendArgsFromStdin sends a 1 MB argument, past what one word of a
// command line may hold, through the function app from standard input,
// and sees it arrive whole; then the arguments that look like JSON but are
// not, which fail before anything is sent.
func TestSendArgsFromStdin(t *testing.T) {
	verifyNoLeaks(t)
	t.Setenv(connectionStringEnv, "")
	st := startTestStack(t)
	c, err := client.New(client.Options{URL: st.FunctionsURL, UserID: "alice", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	waitFor(t, "alice registered", func() bool { return aliceKnown(t, st) })

	big := strings.Repeat("x", 1_000_000)
	stdin, _ := json.Marshal([]any{big, 42})
	r := runCLI(t, false, string(stdin), "send", st.FunctionsURL, "--to-user", "alice", "--target", "big", "--args-file", "-")
	if r.code != 0 || r.stdout != "" || r.stderr != "200 OK: delivered to 1 connection\n" {
		t.Fatalf("send: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	got := nextInvocation(ctx, t, c)
	if got.Target != "big" || string(got.Arguments) != string(stdin) {
		t.Errorf("received %s with %d bytes of arguments, want %d", got.Target, len(got.Arguments), len(stdin))
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"{bad json"}, "argument 1 ({bad json) looks like JSON but does not parse: invalid character 'b' looking for beginning of object key string at byte 2"},
		{[]string{"[1,"}, "argument 1 ([1,) looks like JSON but does not parse: unexpected end of JSON input at byte 3"},
		{[]string{`"unterminated`}, `argument 1 ("unterminated) looks like JSON but does not parse`},
	} {
		r := runCLI(t, false, "", append([]string{"send", st.FunctionsURL, "--to-user", "alice", "--target", "bad"}, tc.args...)...)
		if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("send %q: exit %d, stdout %q, stderr %q", tc.args, r.code, r.stdout, r.stderr)
		}
	}
	r = runCLI(t, false, `["x"]`, "send", st.FunctionsURL, "--text", "hi", "--args-file", "-")
	if r.code != 1 || !strings.Contains(r.stderr, "takes no --target and no arguments") {
		t.Errorf("--text with --args-file: exit %d, %q", r.code, r.stderr)
	}
	// A bare word is still a string, and nothing bad was sent before.
	if r := runCLI(t, false, "", "send", st.FunctionsURL, "--to-user", "alice", "--target", "word", "hello"); r.code != 0 {
		t.Fatalf("send a word: exit %d, %q", r.code, r.stderr)
	}
	if got := nextInvocation(ctx, t, c); got.Target != "word" || string(got.Arguments) != `["hello"]` {
		t.Errorf("after the failed sends, received %s %s", got.Target, got.Arguments)
	}
}

// nextInvocation returns the next invocation c receives.
func nextInvocation(ctx context.Context, t *testing.T, c *client.Conn) protocol.Message {
	t.Helper()
	for {
		select {
		case ev, ok := <-c.Events():
			if !ok {
				t.Fatal("the connection ended")
			}
			if ev.Kind == client.EventMessage && ev.Message.Type == protocol.TypeInvocation {
				m := ev.Message
				m.Arguments = append(json.RawMessage(nil), m.Arguments...)
				return m
			}
		case <-ctx.Done():
			t.Fatal("no invocation arrived")
		}
	}
}

// TestSendHTMLPage: a function app behind a login answers with its login
// page, status 200; send and group say so and exit 1, as watch does for
// negotiate, rather than print 200 OK.
func TestSendHTMLPage(t *testing.T) {
	verifyNoLeaks(t)
	t.Setenv(connectionStringEnv, "")
	login := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/bare/"):
			// A page that does not say it is one.
			w.Header().Set("Content-Type", "application/octet-stream")
		case r.URL.Path != "/login":
			http.Redirect(w, r, "/login", http.StatusFound)
			return
		default:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
		}
		_, _ = w.Write([]byte("<!DOCTYPE html><html><title>Sign in to your account</title></html>"))
	}))
	defer login.Close()
	for _, args := range [][]string{
		{"send", login.URL + "/api", "--target", "x", "hi"},
		{"send", login.URL + "/api", "--user", "bob", "--text", "hi"},
		{"group", "add", login.URL + "/api", "--group", "g", "--to-user", "alice"},
		{"send", login.URL + "/bare/api", "--target", "x", "hi"},
	} {
		r := runCLI(t, false, "", args...)
		if r.code != 1 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "answered 200 OK with an HTML page") ||
			!strings.Contains(r.stderr, protocol.HTMLPageHint) || !strings.Contains(r.stderr, "pass credentials with --header") {
			t.Errorf("sigr %q: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
	// watch says the same of negotiate.
	r := runCLI(t, false, "", "watch", login.URL+"/api")
	if r.code != 1 || !strings.Contains(r.stderr, protocol.HTMLPageHint) {
		t.Errorf("watch: exit %d, stderr %q", r.code, r.stderr)
	}
}
