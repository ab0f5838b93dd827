package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sigr-dev/sigr/internal/textsafe"
)

// setUsageRules makes the tree behave as gh and kubectl users expect:
// a mistyped command is an error that suggests the one meant (exit 2),
// never a help page with exit 0 or an attempt to use it as a URL; a
// command line that cannot run exits 2; -v means --verbose wherever it
// exists, so the version is --version alone. It is called once, on the
// finished tree.
func setUsageRules(root *cobra.Command) {
	// Defined here, cobra adds no -v shorthand of its own.
	root.Flags().Bool("version", false, "print the version (-v is --verbose, on the commands that log)")
	root.SetFlagErrorFunc(flagError)
	root.Args = rootArgs
	root.InitDefaultHelpCmd()
	checkHelpTopics(root)
	checkArgs(root)
}

// checkArgs applies the argument rules to c and the commands under it.
// execute calls it again on the completion command, which cobra adds
// only when the tree runs.
func checkArgs(c *cobra.Command) {
	c.SuggestionsMinimumDistance = 2
	if c.HasSubCommands() && !c.Runnable() {
		// A command group (token, group): a word that is none of its
		// commands is an unknown command, not a reason to show help.
		c.Args = subcommandArgs
		c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
		// Runnable now, only to check its words: its usage still shows
		// only "sigr group [command]".
		c.SetUsageTemplate(strings.Replace(c.UsageTemplate(), "Usage:{{if .Runnable}}", "Usage:{{if and .Runnable (not .HasAvailableSubCommands)}}", 1))
	}
	if c.Args != nil {
		c.Args = usageArgs(c.Args)
	}
	for _, sub := range c.Commands() {
		checkArgs(sub)
	}
}

// usageError is a command line that cannot run as written.
func usageError(format string, a ...any) error {
	return exitError{code: exitUsage, msg: fmt.Sprintf(format, a...)}
}

// usageArgs makes the errors of an argument check usage errors, named
// after the command: `watch: accepts at most 1 arg(s), received 2`.
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		err := check(cmd, args)
		var ec exitCoder
		if err == nil || errors.As(err, &ec) {
			return err
		}
		return usageError("%s: %v", commandName(cmd), err)
	}
}

// commandName is cmd's path without the program's name ("group add"),
// or the program's name for the root.
func commandName(cmd *cobra.Command) string {
	if !cmd.HasParent() {
		return cmd.Name()
	}
	return strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
}

// rootArgs checks the words after `sigr` when none is a command: one URL.
// A bare word is neither a command nor a URL, and the error says both,
// with the command it may have meant.
func rootArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if err := notACommandOrURL(cmd, args[0]); err != nil {
		return err
	}
	if len(args) > 1 {
		return usageError("sigr URL takes one URL, and %d arguments were given; sigr --help lists the commands", len(args))
	}
	return nil
}

// notACommandOrURL returns the error for a word given to the root that is
// a bare word (no scheme, host, port or path), or nil for anything that
// may be a URL: the shared URL check explains those.
func notACommandOrURL(root *cobra.Command, word string) error {
	var ue *urlError
	if !errors.As(checkURL(word), &ue) || !ue.bare {
		return nil
	}
	what := " (sigr --help lists them)"
	if s := didYouMean(root, word); s != "" {
		what = "; " + s
	}
	return usageError("%q is not a command%s and not a URL: a URL starts with http:// or https://", ue.input, what)
}

// subcommandArgs is the argument check of a command group.
func subcommandArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	return unknownCommand(cmd, args[0])
}

// unknownCommand is the error for word where a command of parent should
// be: the command meant, or the commands there are when few.
func unknownCommand(parent *cobra.Command, word string) error {
	msg := fmt.Sprintf("%q is not a command of %s", textsafe.Clip(word, 40), parent.CommandPath())
	if s := didYouMean(parent, word); s != "" {
		return usageError("%s; %s", msg, s)
	}
	var names []string
	for _, c := range parent.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	if len(names) > 0 && len(names) <= 5 {
		return usageError("%s: its commands are %s", msg, orList(names, "and"))
	}
	return usageError("%s; %s --help lists them", msg, parent.CommandPath())
}

// didYouMean returns "did you mean X?" with the commands of parent whose
// name is close to word, or "" when none is.
func didYouMean(parent *cobra.Command, word string) string {
	s := parent.SuggestionsFor(word)
	if len(s) == 0 {
		return ""
	}
	return "did you mean " + orList(s, "or") + "?"
}

// orList joins words as prose: "a", "a or b", "a, b or c".
func orList(words []string, conj string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " " + conj + " " + words[len(words)-1]
}

// flagError turns a flag parsing error into a usage error. Where the flag
// was refused only because the command before it is unknown (`sigr group
// ad URL --group g`: group has no --group), it names the command instead.
func flagError(cmd *cobra.Command, err error) error {
	if words := cmd.Flags().Args(); len(words) > 0 && cmd.HasAvailableSubCommands() {
		if !cmd.HasParent() {
			if e := notACommandOrURL(cmd, words[0]); e != nil {
				return e
			}
		} else if sub, _, ferr := cmd.Find(words[:1]); ferr == nil && sub == cmd {
			return unknownCommand(cmd, words[0])
		}
	}
	msg := err.Error()
	if !cmd.HasParent() && strings.Contains(msg, "'v' in -v") {
		return usageError("%s: the version is --version; -v is --verbose, on the commands that log (watch, invoke)", msg)
	}
	return usageError("%s; %s --help lists the flags", msg, cmd.CommandPath())
}

// checkHelpTopics makes `sigr help nosuch` an error that suggests the
// command meant, where cobra prints the root's help and exits 0.
func checkHelpTopics(root *cobra.Command) {
	help, _, err := root.Find([]string{"help"})
	if err != nil || help == root {
		return
	}
	show := help.Run
	help.Run = nil
	help.RunE = func(c *cobra.Command, args []string) error {
		cmd, rest, err := root.Find(args)
		if err != nil {
			return usageError("help: %v", err)
		}
		for _, w := range rest {
			if !strings.HasPrefix(w, "-") {
				return unknownCommand(cmd, w)
			}
		}
		show(c, args)
		return nil
	}
}
