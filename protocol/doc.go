// Package protocol holds the SignalR wire vocabulary: hub messages and their
// JSON and MessagePack encodings, 0x1E and length-prefixed record framing, the handshake, negotiate payloads, the
// Azure SignalR Service contracts (connection strings, token claims, REST
// and Functions binding bodies), the event lines of `sigr watch` and the
// sequence numbering of stateful reconnect. It is pure: no network, no
// goroutines.
//
// # Receiving
//
// A transport hands its bytes to a Framer (or Framer.SplitOwned), which
// cuts them into records at each 0x1E, and ParseMessage turns one record
// into a Message. A Message aliases its record: Arguments, Headers, Item
// and Result are the raw JSON as it arrived, so nothing is lost and none of
// it is copied.
//
// ParseMessage validates in one of two Modes. Lenient follows the official
// TypeScript client and Strict the .NET JsonHubProtocol, each with that
// parser's own error texts, so that sigr reports a bad record in the words
// its peer would use. decode.go fills the Message the same way in both;
// strict.go and lenient.go hold the two rule sets: their texts and
// per-member rules as tables, and each parser's check of a whole message
// as a switch on its type, as the official code writes it.
//
// # Writing
//
// AppendMessage, AppendHandshakeRequest and the event-line writers append
// to a caller's buffer and write strings as System.Text.Json does, so a
// busy loop writes without allocating and the output is always valid JSON.
// The event-line schema is documented in docs/events.md.
//
// # MessagePack
//
// The MessagePack hub protocol frames each record with a varint length
// prefix (BinaryFramer, SplitBinaryRecords, AppendVarint) and carries each
// message as an array. ParseMessagePack (or a MessagePackDecoder, which
// shares allocations across messages) fills the same Message as
// ParseMessage, converting the message's values to JSON once, so that
// everything downstream (event lines, headers, routing) reads one form;
// binary values become {"$binary":"<base64>"}. Its two Modes follow the
// official TypeScript and .NET MessagePack parsers, with their texts.
// AppendMessagePack writes what the .NET writer writes, converting JSON
// values back (AppendJSONAsMessagePack). The codec is built on the
// byte-slice primitives of github.com/tinylib/msgp.
package protocol
