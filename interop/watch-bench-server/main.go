// Command watch-bench-server is the loopback SignalR server of
// interop/watch-bench.sh. It answers negotiate with a WebSocket-only
// connection and, on every WebSocket connection, answers the handshake and
// then writes -count chat invocations, one record per WebSocket message.
//
// It speaks WebSocket itself and writes all frames, pre-encoded, in one
// large write, so the sender is never the bottleneck of the comparison: what
// is measured is the receiving client.
//
// It prints its base URL on the first line of standard output and runs
// until standard input closes or it gets SIGINT/SIGTERM.
package main

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
)

func main() {
	count := flag.Int("count", 200000, "invocations written on each connection")
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback)")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("watch-bench-server: ")

	stream := buildStream(*count)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/hub/negotiate", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"connectionId":"bench","connectionToken":"bench","negotiateVersion":1,"availableTransports":[{"transport":"WebSockets","transferFormats":["Text","Binary"]}]}`)
	})
	mux.HandleFunc("/hub", func(w http.ResponseWriter, r *http.Request) {
		conn, br, err := upgrade(w, r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		defer conn.Close()
		if _, err := readFrame(br); err != nil { // the handshake request
			return
		}
		if _, err := conn.Write(appendFrame(nil, []byte("{}\x1e"))); err != nil {
			return
		}
		if _, err := conn.Write(stream); err != nil {
			return
		}
		for { // until the client goes
			if _, err := readFrame(br); err != nil {
				return
			}
		}
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	fmt.Printf("http://%s/hub\n", ln.Addr())
	os.Stdout.Sync()

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	go func() {
		io.Copy(io.Discard, os.Stdin)
		stop <- syscall.SIGTERM
	}()
	<-stop
	srv.Close()
}

// buildStream pre-encodes n chat invocations as WebSocket text frames, as
// the serverless chat sample's messages function produces them.
func buildStream(n int) []byte {
	var out, rec []byte
	for i := range n {
		rec = rec[:0]
		rec = append(rec, `{"type":1,"target":"newMessage","arguments":[{"sender":"bob","text":"message `...)
		rec = strconv.AppendInt(rec, int64(i), 10)
		rec = append(rec, ` of the side-by-side benchmark","recipient":"alice"}]}`...)
		rec = append(rec, 0x1e)
		out = appendFrame(out, rec)
	}
	return out
}

// upgrade accepts a WebSocket upgrade (RFC 6455 section 4.2) and returns
// the hijacked connection.
func upgrade(w http.ResponseWriter, r *http.Request) (net.Conn, *bufio.Reader, error) {
	key := r.Header.Get("Sec-WebSocket-Key")
	if key == "" || !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return nil, nil, errors.New("not a WebSocket upgrade")
	}
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, nil, err
	}
	_, err = conn.Write([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
		base64.StdEncoding.EncodeToString(h[:]) + "\r\n\r\n"))
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	return conn, brw.Reader, nil
}

// appendFrame appends p as one unmasked, final text frame.
func appendFrame(dst, p []byte) []byte {
	dst = append(dst, 0x81)
	switch n := len(p); {
	case n < 126:
		dst = append(dst, byte(n))
	case n <= 0xffff:
		dst = append(dst, 126, byte(n>>8), byte(n))
	default:
		dst = append(dst, 127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	return append(dst, p...)
}

// readFrame reads one masked client frame; a close frame gives io.EOF.
func readFrame(br *bufio.Reader) ([]byte, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, err
	}
	if hdr[0]&0x0f == 0x8 {
		return nil, io.EOF
	}
	n := uint64(hdr[1] & 0x7f)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(br, ext[:]); err != nil {
			return nil, err
		}
		n = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(br, ext[:]); err != nil {
			return nil, err
		}
		n = binary.BigEndian.Uint64(ext[:])
	}
	if n > 1<<20 {
		return nil, errors.New("client frame too large")
	}
	var mask [4]byte
	if hdr[1]&0x80 != 0 {
		if _, err := io.ReadFull(br, mask[:]); err != nil {
			return nil, err
		}
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(br, p); err != nil {
		return nil, err
	}
	for i := range p {
		p[i] ^= mask[i%4]
	}
	return p, nil
}
