package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coder/websocket"
)

func main() {
	count := flag.Int("count", 200000, "records to receive before exiting")
	proto := flag.String("protocol", "json", "hub protocol: json or messagepack")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("watch-bench-bare: ")
	if flag.NArg() != 1 || (*proto != "json" && *proto != "messagepack") {
		log.Fatal("usage: watch-bench-bare -count N [-protocol json|messagepack] URL")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := run(ctx, flag.Arg(0), *proto, *count); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, base, proto string, count int) error {
	wsURL, err := negotiate(ctx, base)
	if err != nil {
		return err
	}
	c, _, err := websocket.Dial(ctx, wsURL, nil)
	if err != nil {
		return fmt.Errorf("dial %s: %w", wsURL, err)
	}
	defer c.CloseNow()
	c.SetReadLimit(2 << 20) // sigr's default read limit
	hs := fmt.Sprintf(`{"protocol":%q,"version":1}`+"\x1e", proto)
	if err := c.Write(ctx, websocket.MessageText, []byte(hs)); err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	if _, _, err := c.Read(ctx); err != nil { // {} and 0x1E, in its own message
		return fmt.Errorf("handshake response: %w", err)
	}
	split := splitJSON
	if proto == "messagepack" {
		split = splitMessagePack
	}
	// No deadline on the reads: a context that can end makes every read
	// arm a timer, which no long-lived receiver pays.
	rctx := context.WithoutCancel(ctx)
	buf := make([]byte, 4<<10)
	for got := 0; got < count; {
		_, r, err := c.Reader(rctx)
		if err != nil {
			return fmt.Errorf("after %d of %d records: %w", got, count, err)
		}
		n := 0
		for {
			if n == len(buf) {
				buf = append(buf, 0)
				buf = buf[:cap(buf)]
			}
			m, err := r.Read(buf[n:])
			n += m
			if err == io.EOF {
				break
			}
			if err != nil {
				return fmt.Errorf("after %d of %d records: %w", got, count, err)
			}
		}
		k, err := split(buf[:n])
		if err != nil {
			return err
		}
		got += k
	}
	return nil
}

// negotiate asks base for a connection and returns the WebSocket URL to
// dial, as every SignalR client does first.
func negotiate(ctx context.Context, base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	nu := *u
	nu.Path = strings.TrimSuffix(nu.Path, "/") + "/negotiate"
	nu.RawQuery = "negotiateVersion=1"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, nu.String(), nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("negotiate: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("negotiate: HTTP %d", resp.StatusCode)
	}
	var nr struct {
		ConnectionToken string `json:"connectionToken"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&nr); err != nil {
		return "", fmt.Errorf("negotiate: %w", err)
	}
	u.Scheme = strings.Replace(u.Scheme, "http", "ws", 1)
	u.RawQuery = "id=" + url.QueryEscape(nr.ConnectionToken)
	return u.String(), nil
}

// splitJSON counts the 0x1E-ended records of a message.
func splitJSON(p []byte) (int, error) {
	n := 0
	for {
		i := bytes.IndexByte(p, 0x1e)
		if i < 0 {
			return n, nil
		}
		n++
		p = p[i+1:]
	}
}

// splitMessagePack counts the length-prefixed records of a message.
func splitMessagePack(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		l, size := binary.Uvarint(p)
		if size <= 0 || uint64(len(p)-size) < l {
			return n, errors.New("a MessagePack record is cut off or its length is invalid")
		}
		n++
		p = p[size+int(l):]
	}
	return n, nil
}
