package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/sigr-dev/sigr/protocol"
	"github.com/sigr-dev/sigr/protocol/capture"
)

// decodeFlags are the flags of `sigr decode`.
type decodeFlags struct {
	har      bool
	protocol string
	strict   bool
	lenient  bool
	raw      bool
	max      int
}

// newDecodeCmd returns `sigr decode`; now stamps the lines of raw input,
// which carries no capture time.
func newDecodeCmd(now func() time.Time) *cobra.Command {
	var f decodeFlags
	cmd := &cobra.Command{
		Use:   "decode [FILE]",
		Short: "Decode captured SignalR traffic into JSON event lines",
		Long: `decode reads captured SignalR hub protocol traffic and writes one JSON
event line per record on standard output, in the schema of 'sigr watch'.

The input (FILE, or standard input when FILE is absent or "-") is either the raw
bytes of frames with their 0x1E record separators, as copied from a browser's
WebSocket inspector, or with --har a HAR file exported from the browser's
Network panel (its WebSocket messages, in order, with their capture times).

With --protocol messagepack the records are MessagePack, each after its varint
length prefix; a raw capture may begin with the JSON handshake, and in a HAR
file text frames are read as JSON and binary frames (stored base64) as
MessagePack. Values become the same JSON lines, binary ones as
{"$binary":"<base64>"}.

A record without "type" that has "protocol" is a handshake request; one that is
the first record, or follows a handshake request, is a handshake response. A
malformed record gives an "error" line with the parser's own message and the
record as "raw", and decoding goes on. The exit status is 1 when any record
failed to decode.`,
		Example: `  printf '{"type":1,"target":"a","arguments":[1]}\x1e{"type":6}\x1e' | sigr decode
  sigr decode --har capture.har --strict
  sigr decode --protocol messagepack < capture.bin`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := cmd.InOrStdin()
			if len(args) == 1 && args[0] != "-" {
				file, err := os.Open(args[0])
				if err != nil {
					return fmt.Errorf("decode: %w", err)
				}
				defer file.Close()
				in = file
			}
			return runDecode(in, cmd.OutOrStdout(), f, now)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.har, "har", false, "read a HAR file (browser Network export) instead of raw 0x1E-separated bytes")
	fl.BoolVar(&f.strict, "strict", false, "validate like the .NET server, with its exact error texts")
	fl.BoolVar(&f.lenient, "lenient", false, "validate like the official TypeScript client (the default)")
	fl.StringVar(&f.protocol, "protocol", protocol.ProtocolJSON, protocolFlagUsage)
	fl.BoolVar(&f.raw, "raw", false, "add each record as raw (or rawBase64) to its line")
	fl.IntVar(&f.max, "max-record-size", protocol.DefaultMaxRecordSize, "largest record in bytes; a longer one is reported and skipped")
	cmd.MarkFlagsMutuallyExclusive("strict", "lenient")
	return cmd
}

// runDecode decodes in to event lines on out. It returns an exitError with
// status 1 and no message when some record failed, so that main prints
// nothing more.
func runDecode(in io.Reader, out io.Writer, f decodeFlags, now func() time.Time) error {
	proto, err := parseProtocolFlag(f.protocol)
	if err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	o := capture.Options{Mode: protocol.Lenient, Protocol: proto, Raw: f.raw, MaxRecordSize: f.max, Now: now}
	if f.strict {
		o.Mode = protocol.Strict
	}
	decode := capture.DecodeRaw
	if f.har {
		decode = capture.DecodeHAR
	}
	res, err := decode(in, out, o)
	if err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	if res.Failed > 0 {
		return exitError{code: 1}
	}
	return nil
}
