// Package capture turns captured SignalR hub protocol traffic, JSON or
// MessagePack, into event lines, the lines `sigr watch` prints (docs/events.md): the raw
// bytes of frames with their 0x1E separators, as a browser's WebSocket
// inspector copies them, or a HAR file exported from its Network panel
// (each WebSocket's messages, in order, with their capture times and
// directions).
//
// A capture holds no labels, so each record is classified by what it
// shows and where it stands: a record without "type" that has "protocol"
// is a handshake request; one that is the first record, or follows a
// handshake request, is a handshake response; everything else is a hub
// message. A malformed record becomes an error line carrying the parser's
// own text and the record, and decoding goes on.
//
// A MessagePack capture (Options.Protocol) holds length-prefixed records
// after the JSON handshake; in a HAR file its binary frames are base64.
// Its values become the same JSON lines, binary ones {"$binary":"…"}.
//
// The package reads and writes only through the io.Reader and io.Writer
// it is given.
package capture
