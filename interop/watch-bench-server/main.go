package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/sigr-dev/sigr/internal/rawws"
	"github.com/sigr-dev/sigr/protocol"
)

func main() {
	count := flag.Int("count", 200000, "invocations written on each connection")
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback)")
	rate := flag.Int("rate", 0, "messages per second on each connection; 0 writes them all at once")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("watch-bench-server: ")

	stream := buildStream(*count)
	mpStream := buildMessagePackStream(*count)
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
		conn, br, err := rawws.Upgrade(w, r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		defer conn.Close()
		hs, err := rawws.ReadFrame(br) // the handshake request
		if err != nil {
			return
		}
		out := stream
		if bytes.Contains(hs, []byte(`"messagepack"`)) {
			out = mpStream
		}
		if _, err := conn.Write(rawws.AppendFrame(nil, []byte("{}\x1e"))); err != nil {
			return
		}
		if err := writePaced(conn, out, *rate); err != nil {
			return
		}
		for { // until the client goes
			if _, err := rawws.ReadFrame(br); err != nil {
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

// writePaced writes stream, whole frames at a time, at about rate frames
// per second (all at once when rate is 0): every 10 ms, the frames due by
// then since the start, so a slow reader is caught up with rather than
// slowing the rate.
func writePaced(w io.Writer, stream []byte, rate int) error {
	if rate <= 0 {
		_, err := w.Write(stream)
		return err
	}
	start := time.Now()
	sent := 0
	for off := 0; off < len(stream); {
		time.Sleep(10 * time.Millisecond)
		due := int(time.Since(start).Seconds() * float64(rate))
		end := off
		for ; sent < due && end < len(stream); sent++ {
			end += frameLen(stream[end:])
		}
		if _, err := w.Write(stream[off:end]); err != nil {
			return err
		}
		off = end
	}
	return nil
}

// frameLen is the length of the unmasked frame at the start of b, as
// rawws.AppendFrame writes it.
func frameLen(b []byte) int {
	switch n := int(b[1] & 0x7f); n {
	case 126:
		return 4 + int(binary.BigEndian.Uint16(b[2:]))
	case 127:
		return 10 + int(binary.BigEndian.Uint64(b[2:]))
	default:
		return 2 + n
	}
}

// buildMessagePackStream pre-encodes the same invocations in MessagePack,
// one binary frame each, for a client whose handshake asks for it.
func buildMessagePackStream(n int) []byte {
	var out, args, rec []byte
	for i := range n {
		args = args[:0]
		args = append(args, `[{"sender":"bob","text":"message `...)
		args = strconv.AppendInt(args, int64(i), 10)
		args = append(args, ` of the side-by-side benchmark","recipient":"alice"}]`...)
		m := protocol.NewInvocation("newMessage", args)
		var err error
		if rec, err = protocol.AppendMessagePack(rec[:0], &m); err != nil {
			log.Fatal(err)
		}
		out = rawws.AppendBinaryFrame(out, rec)
	}
	return out
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
		out = rawws.AppendFrame(out, rec)
	}
	return out
}
