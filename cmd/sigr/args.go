package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/sigr-dev/sigr/internal/textsafe"
)

// maxArgsFile bounds --args-file: far above any hub message a server takes.
const maxArgsFile = 16 << 20

// splitURLArg separates the optional URL from the message arguments of
// send and invoke. The first word is the URL when it has an http(s)
// scheme, when nothing else says where to go (no --connection-string, no
// $AzureSignalRConnectionString), or when it reads as a host with a port
// or a path: checkURL then says what is wrong with it, rather than the
// word going out as an argument.
func splitURLArg(id *identityFlags, args []string) (urlArgs, rest []string) {
	if len(args) == 0 {
		return nil, nil
	}
	first := strings.TrimSpace(args[0])
	noOther := id.connectionString == "" && os.Getenv(connectionStringEnv) == ""
	if looksLikeURL(first) || noOther || (!json.Valid([]byte(first)) && hostWithPortOrPath(first)) {
		return args[:1], args[1:]
	}
	return nil, args
}

func looksLikeURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// hostWithPortOrPath reports whether s reads as host:port or host/path,
// so is surely a URL without its scheme, not a word meant as a string.
func hostWithPortOrPath(s string) bool {
	host, _, hasPath := strings.Cut(s, "/")
	return hostLike(s) && (hasPath || strings.Contains(host, ":"))
}

// parseArgs turns command-line words into a JSON array of hub arguments:
// each word that is JSON as it is, a bare word as a JSON string. A word
// that starts like a JSON object, array or string ({, [ or ") but does
// not parse is an error that says where it breaks, rather than a string
// that the hub would get by mistake.
func parseArgs(words []string) (json.RawMessage, error) {
	out := []byte{'['}
	for i, w := range words {
		if i > 0 {
			out = append(out, ',')
		}
		t := strings.TrimSpace(w)
		if t != "" && json.Valid([]byte(t)) {
			out = append(out, t...)
			continue
		}
		if t != "" && strings.ContainsRune(`{["`, rune(t[0])) {
			return nil, fmt.Errorf("argument %d (%s) looks like JSON but does not parse: %s; quote it as a JSON string to send the text as it is",
				i+1, textsafe.Clip(t, 40), textsafe.Line(jsonSyntax([]byte(t))))
		}
		s, _ := json.Marshal(w) // a string always encodes
		out = append(out, s...)
	}
	return append(out, ']'), nil
}

// jsonSyntax describes why b is not JSON, with the byte where it breaks.
func jsonSyntax(b []byte) string {
	var v json.RawMessage
	err := json.Unmarshal(b, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s at byte %d", se.Error(), se.Offset)
	}
	if err != nil {
		return err.Error()
	}
	return "not valid JSON"
}

// readArgs returns the hub arguments of send and invoke as a JSON array:
// from --args-file (a file, or standard input with -), or the words after
// the URL. A file holds one JSON array, so an argument of any size (past
// the system's limit on a command line) can be sent.
func readArgs(stdin io.Reader, words []string, file string) (json.RawMessage, error) {
	if file == "" {
		return parseArgs(words)
	}
	if len(words) > 0 {
		return nil, errors.New("give the arguments as ARGs or with --args-file, not both")
	}
	name, r := file, stdin
	if file == "-" {
		name = "standard input"
		if r == nil {
			r = os.Stdin
		}
	} else {
		fh, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("--args-file: %w", err)
		}
		defer fh.Close()
		r = fh
	}
	b, err := io.ReadAll(io.LimitReader(r, maxArgsFile+1))
	if err != nil {
		return nil, fmt.Errorf("--args-file: reading %s: %w", name, err)
	}
	if len(b) > maxArgsFile {
		return nil, fmt.Errorf("--args-file: %s holds more than %d MiB", name, maxArgsFile>>20)
	}
	b = bytes.TrimSpace(b)
	const want = `one JSON array of arguments, e.g. ["alice", 42]`
	switch {
	case len(b) == 0 || b[0] != '[':
		return nil, fmt.Errorf("--args-file: %s must hold %s", name, want)
	case !json.Valid(b):
		return nil, fmt.Errorf("--args-file: %s must hold %s: %s", name, want, textsafe.Line(jsonSyntax(b)))
	}
	return b, nil
}
