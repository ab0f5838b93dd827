package main

import (
	"bytes"
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

	"github.com/sigr-dev/sigr/internal/rawws"
	"github.com/sigr-dev/sigr/protocol"
)

func main() {
	count := flag.Int("count", 200000, "invocations written on each connection")
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback)")
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
		if _, err := conn.Write(out); err != nil {
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
