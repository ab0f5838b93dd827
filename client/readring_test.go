package client

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestReadRingKeepsRecords sends messages of sizes around every limit of
// the reader's blocks (ringMinFree, ringFirstBlock, ringMaxBlock), some
// with several records and some with a record cut across two messages,
// while the consumer holds every event until the end. Each event's Raw
// and arguments must still be what was sent: the reader reuses a block
// only once the dispatcher has copied its records out, and a message that
// does not fit the room left is read apart.
func TestReadRingKeepsRecords(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 3))
	sizes := []int{0, 1, 100, ringMinFree - 40, ringMinFree, ringFirstBlock - 50, ringFirstBlock, ringFirstBlock + 1,
		2 * ringFirstBlock, ringMaxBlock - 60, ringMaxBlock, ringMaxBlock + 100, 3 * ringMaxBlock}
	for range 400 {
		sizes = append(sizes, rng.IntN(3*ringFirstBlock))
	}
	for range 200 {
		sizes = append(sizes, rng.IntN(300))
	}
	record := func(i int) string {
		pad := strings.Repeat(string(rune('a'+i%26)), sizes[i%len(sizes)])
		return `{"type":1,"target":"m","arguments":[` + strconv.Itoa(i) + `,"` + pad + `"]}`
	}
	const total = 3000
	hub := newFakeHub(t, func(ctx context.Context, c *websocket.Conn, r *http.Request) {
		if !serverHandshake(t, ctx, c, "{}\x1e") {
			return
		}
		for i := 0; i < total; {
			var msg string
			switch {
			case i%7 == 3 && i+3 <= total: // three records in one message
				msg = record(i) + "\x1e" + record(i+1) + "\x1e" + record(i+2) + "\x1e"
				i += 3
			case i%11 == 5 && i+1 <= total: // one record cut across two messages
				rec := record(i) + "\x1e"
				cut := len(rec) / 2
				if err := c.Write(ctx, websocket.MessageText, []byte(rec[:cut])); err != nil {
					return
				}
				msg = rec[cut:]
				i++
			default:
				msg = record(i) + "\x1e"
				i++
			}
			if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
				return
			}
		}
		drain(ctx, c, nil)
	})
	o := testOptions(hub.URL())
	o.EventBuffer = 16 // the consumer lags: the dispatcher waits, the queue fills
	c := startConn(t, o)
	var got []Event
	deadline := time.After(30 * time.Second)
	for len(got) < total {
		select {
		case ev, ok := <-c.Events():
			if !ok {
				t.Fatalf("events closed after %d messages", len(got))
			}
			if ev.Kind == EventMessage {
				got = append(got, ev)
			} else if ev.Kind != EventHandshake && ev.Kind != EventState {
				t.Fatalf("event %d: %v %v", len(got), ev.Kind, ev.Err)
			}
			if len(got)%100 == 0 {
				time.Sleep(time.Millisecond) // let the reader run ahead
			}
		case <-deadline:
			t.Fatalf("timed out with %d of %d messages", len(got), total)
		}
	}
	check := func(when string) {
		t.Helper()
		for i, ev := range got {
			want := record(i)
			if string(ev.Raw) != want {
				t.Fatalf("%s: message %d: Raw is %d bytes %.40q…, want %d bytes %.40q…", when, i, len(ev.Raw), ev.Raw, len(want), want)
			}
			if !strings.HasPrefix(string(ev.Message.Arguments), "["+strconv.Itoa(i)+",") {
				t.Fatalf("%s: message %d: arguments %.40q…", when, i, ev.Message.Arguments)
			}
		}
	}
	check("as received")
	// A consumer may append to what it got without touching a neighbour.
	for _, ev := range got {
		_ = append(ev.Raw, "}}}"...)
	}
	check("after appending to each")
}
