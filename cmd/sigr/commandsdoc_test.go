package main

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite docs/commands.md from the command tree")

const commandsDoc = "../../docs/commands.md"

// commandsDocHead opens docs/commands.md; the rest is generated.
const commandsDocHead = `# sigr commands

<!-- Generated from the command tree by TestCommandsDoc (cmd/sigr); do not edit.
     After changing a command or a flag, regenerate it with
     go test ./cmd/sigr -run TestCommandsDoc -update-docs -->

Every command of sigr with every flag, exactly as ` + "`sigr COMMAND --help`" + ` prints
it. The README's [Usage](../README.md#usage) section shows the commands at work;
[events.md](events.md) documents the JSON lines that ` + "`watch`" + ` and ` + "`decode`" + ` print.

`

// TestCommandsDoc checks that docs/commands.md holds the help of every
// command in the tree, so the reference cannot fall behind the flags;
// with -update-docs it rewrites the file.
func TestCommandsDoc(t *testing.T) {
	var paths [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		paths = append(paths, path)
		for _, sub := range c.Commands() {
			// help and completion are cobra's own; sigr documents its commands.
			if sub.Hidden || sub.Name() == "help" || sub.Name() == "completion" {
				continue
			}
			walk(sub, append(path[:len(path):len(path)], sub.Name()))
		}
	}
	walk(newRootCmd(), nil)

	var b strings.Builder
	b.WriteString(commandsDocHead)
	for _, p := range paths {
		title := strings.Join(append([]string{"sigr"}, p...), " ")
		b.WriteString("- [`" + title + "`](#" + strings.ReplaceAll(title, " ", "-") + ")\n")
	}
	for _, p := range paths {
		// A fresh tree per command, run as a user runs it, so the text is
		// what --help prints (cobra adds its help and version flags then).
		root := newRootCmd()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetErr(&out)
		root.SetArgs(append(p[:len(p):len(p)], "--help"))
		if err := root.Execute(); err != nil {
			t.Fatalf("%v --help: %v", p, err)
		}
		title := strings.Join(append([]string{"sigr"}, p...), " ")
		b.WriteString("\n## `" + title + "`\n\n```text\n" + strings.TrimRight(out.String(), "\n") + "\n```\n")
	}
	want := b.String()

	if *updateDocs {
		if err := os.WriteFile(commandsDoc, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(commandsDoc)
	if err != nil {
		t.Fatalf("%v; generate it with\n\tgo test ./cmd/sigr -run TestCommandsDoc -update-docs", err)
	}
	if string(got) != want {
		t.Errorf("docs/commands.md is not the help of the command tree; regenerate it with\n" +
			"\tgo test ./cmd/sigr -run TestCommandsDoc -update-docs")
	}
}
