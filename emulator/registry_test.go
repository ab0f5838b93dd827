package emulator

import (
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sigr-dev/sigr/internal/syncbuf"
	"github.com/sigr-dev/sigr/protocol"
)

func TestUserGroupTTL(t *testing.T) {
	var offset atomic.Int64
	st := startStack(t, func(o *StackOptions) {
		o.Service.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
		o.Service.SweepInterval = time.Hour // the test sweeps by hand
	})
	rc := restClient(t, st)
	ctx := ctxT(t)
	send := func(group string) {
		t.Helper()
		if err := rc.SendToGroup(ctx, "chat", group, "g", nil); err != nil {
			t.Fatal(err)
		}
	}

	// ttl=10s: current and future connections, until it expires.
	a1 := connectWS(t, st, "chat", "alice")
	if err := rc.AddUserToGroup(ctx, "chat", "temp", "alice", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	a2 := connectWS(t, st, "chat", "alice")
	send("temp")
	a1.expectInvocation("g", "group:temp")
	a2.expectInvocation("g", "group:temp")
	offset.Store(int64(11 * time.Second))
	st.Service.sweep()
	send("temp")
	a1.expectNothing()
	a2.expectNothing()
	if in, err := rc.UserInGroup(ctx, "chat", "temp", "alice"); err != nil || in {
		t.Fatalf("alice in temp after expiry: %v %v", in, err)
	}

	// ttl=0: only the connections the user has now.
	b1 := connectWS(t, st, "chat", "bob")
	if err := rc.AddUserToGroup(ctx, "chat", "now", "bob", 0); err != nil {
		t.Fatal(err)
	}
	b2 := connectWS(t, st, "chat", "bob")
	send("now")
	b1.expectInvocation("g", "group:now")
	b2.expectNothing()

	// No TTL: it carries over to connections made later, survives the
	// user's disconnect, and removal takes every connection out.
	if err := rc.AddUserToGroup(ctx, "chat", "team", "carol", -1); err != nil {
		t.Fatal(err)
	}
	c1 := connectWS(t, st, "chat", "carol")
	send("team")
	c1.expectInvocation("g", "group:team")
	_ = c1.ws.Close(websocket.StatusNormalClosure, "")
	waitFor(t, func() bool { return !st.Service.exists("chat", toUser, "carol") })
	c2 := connectWS(t, st, "chat", "carol")
	send("team")
	c2.expectInvocation("g", "group:team")
	if err := rc.RemoveUserFromGroup(ctx, "chat", "team", "carol"); err != nil {
		t.Fatal(err)
	}
	send("team")
	c2.expectNothing()

	// At most 100 no-TTL groups per user: the oldest goes.
	for i := 0; i <= maxNoTTLGroups; i++ {
		offset.Add(int64(time.Millisecond))
		st.Service.addUserToGroup("chat", "dave", "g"+strconv.Itoa(i), -1)
	}
	if st.Service.userInGroup("chat", "dave", "g0") || !st.Service.userInGroup("chat", "dave", "g100") {
		t.Fatal("the 101st no-TTL group did not evict the oldest")
	}
}

func TestSlowReaderIsClosedWithoutSlowingOthers(t *testing.T) {
	var logs syncbuf.Buffer
	st := startStack(t, func(o *StackOptions) {
		o.Service.QueueSize = 8
		o.Logger = newBufferLogger(&logs)
	})
	fast := connectWS(t, st, "chat", "fast")
	slow, n := dialWS(t, st, "chat", "slow")
	if err := slow.Write(ctxT(t), websocket.MessageText, protocol.AppendHandshakeRequest(nil, protocol.HandshakeRequest{Protocol: "json", Version: 1})); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return st.Service.exists("chat", toConn, n.ConnectionID) })
	// The slow client never reads. Each message is 64 KiB; 400 of them
	// (25 MiB) overflow any socket buffer, then the 8-message queue.
	payload := []byte(`["` + strings.Repeat("x", 64<<10) + `"]`)
	slowClosed := -1
	for i := 0; i < 400; i++ {
		st.Service.deliver(st.Service.recipients("chat", toAll, "", nil), "big", payload, "broadcast")
		fast.expectInvocation("big", "broadcast")
		if slowClosed < 0 && !st.Service.exists("chat", toConn, n.ConnectionID) {
			slowClosed = i
		}
	}
	if slowClosed < 0 {
		t.Fatal("the client that does not read was never closed")
	}
	if !strings.Contains(logs.String(), "outgoing queue is full") {
		t.Fatalf("no queue-full log line; logs:\n%s", logs.String())
	}
	t.Logf("slow reader closed after %d messages", slowClosed)
}
