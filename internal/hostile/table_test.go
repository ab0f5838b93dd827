package hostile

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

// row is one hostile input: what it sends, what sigr must do, and the
// check that proves it. The README's Security table is generated from
// these rows, and TestSecurityTable fails when the two differ.
type row struct {
	area    string // who is attacked: emulator wire, tokens, REST, negotiate, client, TUI, load
	input   string // what the hostile side does
	outcome string // what sigr does
	check   func(t *testing.T, e *env)
}

// table is the whole campaign, in the order of the Security section.
func table() []row {
	var all []row
	for _, part := range [][]row{wireRows(), tokenRows(), restRows(), negotiateRows(), clientRows(), tuiRows(), loadRows(), listenerRows(), upstreamRows(), extensionRows()} {
		all = append(all, part...)
	}
	return all
}

var nonWord = regexp.MustCompile(`[^a-z0-9]+`)

// name is the subtest name of a row: area/first words of the input.
func (r row) name() string {
	words := strings.Fields(strings.ToLower(r.input))
	if len(words) > 6 {
		words = words[:6]
	}
	area := strings.Trim(nonWord.ReplaceAllString(strings.ToLower(r.area), "_"), "_")
	return area + "/" + strings.Trim(nonWord.ReplaceAllString(strings.Join(words, "_"), "_"), "_")
}

// TestHostile runs every row against real loopback servers.
func TestHostile(t *testing.T) {
	e := &env{t: t}
	defer e.close()
	for _, r := range table() {
		t.Run(r.name(), func(t *testing.T) { r.check(t, e) })
	}
}

var updateREADME = flag.Bool("update-readme", false, "rewrite the README's Security table from the rows")

// securityTableHeader starts the README's Security table, which ends at
// the first blank line after it.
const securityTableHeader = "| # | area | hostile input | what sigr does | test |\n"

// TestSecurityTable checks that every row names its input and outcome,
// that names are unique, and that the README's Security table is the one
// the rows make; with -update-readme it rewrites that table.
func TestSecurityTable(t *testing.T) {
	seen := map[string]bool{}
	var b strings.Builder
	b.WriteString(securityTableHeader + "|---|---|---|---|---|\n")
	for i, r := range table() {
		if r.input == "" || r.outcome == "" || r.check == nil {
			t.Errorf("row %d (%s) is incomplete", i, r.area)
		}
		if seen[r.name()] {
			t.Errorf("two rows are named %s", r.name())
		}
		seen[r.name()] = true
		fmt.Fprintf(&b, "| %d | %s | %s | %s | `TestHostile/%s` |\n", i+1, r.area, mdEscape(r.input), mdEscape(r.outcome), r.name())
	}
	want := b.String()

	const readme = "../../README.md"
	data, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	start := strings.Index(text, securityTableHeader)
	if start < 0 {
		t.Fatalf("%s has no Security table (a line %q)", readme, strings.TrimSpace(securityTableHeader))
	}
	end := len(text)
	if i := strings.Index(text[start:], "\n\n"); i >= 0 {
		end = start + i + 1
	}
	if *updateREADME {
		if err := os.WriteFile(readme, []byte(text[:start]+want+text[end:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got := text[start:end]; got != want {
		t.Errorf("README.md's Security table is not the one the rows in internal/hostile make; regenerate it with\n"+
			"\tgo test ./internal/hostile -run TestSecurityTable -update-readme\n%s", lineDiff(got, want))
	}
}

// lineDiff lists the lines of the README's table and of the generated one
// that the other lacks.
func lineDiff(readme, generated string) string {
	var b strings.Builder
	only := func(sign string, a, other string) {
		in := map[string]bool{}
		for _, l := range strings.Split(other, "\n") {
			in[l] = true
		}
		for _, l := range strings.Split(a, "\n") {
			if !in[l] {
				fmt.Fprintf(&b, "%s %s\n", sign, l)
			}
		}
	}
	only("- README:   ", readme, generated)
	only("+ generated:", generated, readme)
	return b.String()
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
