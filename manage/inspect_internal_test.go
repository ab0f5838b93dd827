package manage

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/sigr-dev/sigr/protocol"
)

func TestReadTrace(t *testing.T) {
	collect := func(in string) ([]protocol.TraceEvent, error) {
		var got []protocol.TraceEvent
		err := readTrace(strings.NewReader(in), func(e protocol.TraceEvent) error {
			got = append(got, e)
			return nil
		})
		return got, err
	}
	in := ": sigr live trace\n\n" +
		`data: {"time":"2026-11-30T10:00:00Z","event":"trace","kind":"connected","hub":"chat","connectionId":"a"}` + "\r\n\r\n" +
		": ping\n\n" +
		"event: ignored\nid: 7\n" +
		`data: {"kind":"delivered",` + "\n" + `data: "recipients":0,"reason":"r"}` + "\n\n" +
		"\n\n"
	got, err := collect(in)
	if !errors.Is(err, ErrTraceEnded) {
		t.Fatalf("err = %v, want ErrTraceEnded at EOF", err)
	}
	if len(got) != 2 || got[0].Kind != "connected" || got[0].ConnectionID != "a" || got[0].Time.IsZero() ||
		got[1].Kind != "delivered" || got[1].Recipients == nil || *got[1].Recipients != 0 || got[1].Reason != "r" {
		t.Fatalf("events %+v", got)
	}

	for name, in := range map[string]string{
		"not JSON":     "data: {nope\n\n",
		"huge line":    "data: " + strings.Repeat("x", maxTraceLine+10) + "\n\n",
		"huge event":   strings.Repeat("data: "+strings.Repeat("x", 1<<16)+"\n", 17) + "\n",
		"no separator": strings.Repeat("x", maxTraceLine+10),
	} {
		if _, err := collect(in); err == nil || errors.Is(err, ErrTraceEnded) {
			t.Errorf("%s: err = %v", name, err)
		}
	}

	stop := errors.New("stop")
	n := 0
	err = readTrace(strings.NewReader(strings.Repeat(`data: {"kind":"x"}`+"\n\n", 5)), func(protocol.TraceEvent) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if err != stop || n != 2 {
		t.Fatalf("the callback's error: %v after %d", err, n)
	}
	if err := readTrace(errReader{}, func(protocol.TraceEvent) error { return nil }); err == nil || errors.Is(err, ErrTraceEnded) {
		t.Fatalf("a read error: %v", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }
