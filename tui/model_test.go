package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sigr-dev/sigr/client"
)

func TestRing(t *testing.T) {
	r := newRing(100)
	for i := range 250 {
		if seq := r.push(entry{conn: int32(i)}); seq != uint64(i) {
			t.Fatalf("push %d returned seq %d", i, seq)
		}
	}
	if r.Len() != 100 || r.first != 150 {
		t.Fatalf("Len %d first %d, want 100 and 150", r.Len(), r.first)
	}
	if r.at(149) != nil || r.at(250) != nil {
		t.Fatal("at returns evicted or future entries")
	}
	for seq := uint64(150); seq < 250; seq++ {
		if e := r.at(seq); e == nil || e.seq != seq || int(e.conn) != int(seq) {
			t.Fatalf("at(%d) = %+v", seq, e)
		}
	}
	r.clear()
	if r.Len() != 0 || r.push(entry{}) != 250 {
		t.Fatal("clear must keep seqs increasing")
	}
}

func msgBatch(from, n int, conn string) Batch {
	var b Batch
	for i := range n {
		b.Events = append(b.Events, msgEv(time.Duration(from+i)*time.Millisecond, conn, fmt.Sprint("t", (from+i)%3), fmt.Sprintf(`[%d]`, from+i), ""))
	}
	return b
}

// TestUpdateBatchIsOneUpdate checks that a batch of thousands of messages is
// one Update that re-arms the feed once, and that the ring bounds history.
func TestUpdateBatchIsOneUpdate(t *testing.T) {
	f := NewFeed(make(chan Source), 0, 0)
	defer f.Stop()
	m := newTestModel(100, 30, Config{History: 1000, Feed: f})
	_, cmd := m.Update(batchMsg(msgBatch(0, 5000, "alice@chat")))
	if cmd == nil {
		t.Fatal("Update did not re-arm the feed")
	}
	if m.stats.count != 5000 || m.stream.history.Len() != 1000 {
		t.Fatalf("total %d, kept %d; want 5000 and 1000", m.stats.count, m.stream.history.Len())
	}
	if e := m.stream.selected(); e == nil || string(e.msg.Arguments) != "[4999]" {
		t.Fatalf("following: selected %v, want the newest", e)
	}
	var sum int
	for _, ts := range m.stats.targets {
		sum += ts.count
	}
	if sum != 5000 {
		t.Fatalf("target counts sum to %d, want 5000", sum)
	}
}

func TestFilterTracksRingEviction(t *testing.T) {
	m := newTestModel(100, 30, Config{History: 300})
	m.stream.setQuery("target:t1")
	m.Update(batchMsg(msgBatch(0, 900, "alice@chat")))
	if got := m.stream.len(); got != 100 {
		t.Fatalf("%d matches kept, want 100 (a third of the ring)", got)
	}
	for i := range m.stream.len() {
		if e := m.stream.history.at(m.stream.seq(i)); e == nil || e.msg.Target != "t1" {
			t.Fatalf("match %d is %+v", i, e)
		}
	}
	m.stream.setQuery("")
	if m.stream.len() != 300 {
		t.Fatalf("cleared filter shows %d, want 300", m.stream.len())
	}
}

func TestPauseKeepsCounting(t *testing.T) {
	m := newTestModel(100, 30, Config{})
	m.Update(batchMsg(msgBatch(0, 10, "alice@chat")))
	m.Update(press("p"))
	m.Update(batchMsg(msgBatch(10, 15, "alice@chat")))
	if m.stream.len() != 10 || m.stats.count != 25 {
		t.Fatalf("paused: view %d total %d, want 10 and 25", m.stream.len(), m.stats.count)
	}
	if e := m.stream.selected(); e == nil || string(e.msg.Arguments) != "[9]" {
		t.Fatal("paused stream moved")
	}
	m.Update(press("p"))
	if m.stream.len() != 25 {
		t.Fatalf("resumed: view %d, want 25", m.stream.len())
	}
}

func TestFollowStopsAndResumes(t *testing.T) {
	m := newTestModel(100, 30, Config{})
	m.Update(batchMsg(msgBatch(0, 100, "alice@chat")))
	m.Update(press("up"))
	m.Update(press("up"))
	held := m.stream.selected().seq
	m.Update(batchMsg(msgBatch(100, 50, "alice@chat")))
	if m.stream.follow || m.stream.selected().seq != held {
		t.Fatal("scrolling up did not stop following")
	}
	m.Update(press("end"))
	m.Update(batchMsg(msgBatch(150, 5, "alice@chat")))
	if !m.stream.follow || string(m.stream.selected().msg.Arguments) != "[154]" {
		t.Fatal("end did not resume following")
	}
	m.Update(press("c"))
	if m.stream.len() != 0 || m.stats.count != 0 {
		t.Fatal("c did not clear")
	}
}

func TestRouteInference(t *testing.T) {
	m := newTestModel(100, 30, Config{Groups: []GroupMember{{Hub: "chat", Group: "devs", Member: "bob"}}})
	feed(m, []Event{
		stateEv(0, "alice@chat", "alice", client.Connected),
		stateEv(0, "alice#2@chat", "alice", client.Connected),
		stateEv(0, "bob@chat", "bob", client.Connected),
	})
	send := func(at time.Duration, args string, conns ...string) *entry {
		var evs []Event
		for _, c := range conns {
			evs = append(evs, msgEv(at, c, "newMessage", args, ""))
		}
		feed(m, evs)
		return m.stream.history.at(m.stream.history.next - 1)
	}
	for _, c := range []struct {
		conns []string
		want  string
	}{
		{[]string{"alice@chat", "alice#2@chat", "bob@chat"}, "broadcast"},
		{[]string{"alice@chat", "alice#2@chat"}, "user:alice"},
		{[]string{"bob@chat"}, "user:bob"},
		{[]string{"alice#2@chat"}, "connection"},
	} {
		e := send(time.Duration(len(c.want))*time.Second, `["`+c.want+`"]`, c.conns...)
		if got, inferred := m.routing.routeOf(e); got != c.want || !inferred {
			t.Errorf("received by %v: route %q (inferred %v), want %q", c.conns, got, inferred, c.want)
		}
	}
}

func TestComposeChatAndJSON(t *testing.T) {
	m := newTestModel(100, 30, Config{As: "alice"})
	feed(m, []Event{stateEv(0, "alice@chat", "alice", client.Connected)})
	m.composer.body.SetValue("hi bob")
	m.composer.to.SetValue("user:bob")
	out, call, err := m.compose()
	if err != nil || call != nil || !out.Chat || out.Sender != "alice" || out.Text != "hi bob" || out.To != ToUser || out.Name != "bob" {
		t.Fatalf("chat compose = %+v, %v, %v", out, call, err)
	}
	m.composer.body.SetValue(`[1, "two"]`)
	m.composer.target.SetValue("priceTick")
	m.composer.to.SetValue("group:devs")
	out, _, err = m.compose()
	if err != nil || out.Chat || string(out.Args) != `[1, "two"]` || out.Target != "priceTick" || out.To != ToGroup {
		t.Fatalf("JSON compose = %+v, %v", out, err)
	}
	m.composer.to.SetValue("nowhere")
	if _, _, err := m.compose(); err == nil {
		t.Fatal("a bad destination composed")
	}
}

// TestCopySelectedAsEventLine: y puts the selected message on the
// clipboard (OSC 52) as the same JSON line `sigr watch` prints.
func TestCopySelectedAsEventLine(t *testing.T) {
	m := newLiveModel(100, 30, Config{})
	_, cmd := m.Update(press("y"))
	if cmd == nil {
		t.Fatal("y returned no command")
	}
	got := fmt.Sprint(cmd())
	for _, want := range []string{`"event":"invocation"`, `"target":"priceTick"`, `"connection":"bob@chat"`, `"arguments":[{"sym":"ACME","px":12.5}]`} {
		if !strings.Contains(got, want) {
			t.Fatalf("clipboard %s lacks %s", got, want)
		}
	}
}
