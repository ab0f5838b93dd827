package manage_test

import (
	"net/http"
	"testing"

	"github.com/sigr-dev/sigr/manage"
)

func TestOutcomeHeaders(t *testing.T) {
	cases := []struct {
		h       http.Header
		n       int
		known   bool
		why     string
		explain string
	}{
		{nil, 0, false, "", ""},
		{http.Header{"X-Sigr-Delivered": {"2"}}, 2, true, "", "delivered to 2 connections"},
		{http.Header{"X-Sigr-Delivered": {"1"}}, 1, true, "", "delivered to 1 connection"},
		{http.Header{"X-Sigr-Delivered": {"0"}, "X-Sigr-Undelivered": {"group 'ops' has no members"}}, 0, true, "group 'ops' has no members", "delivered to 0 connections: group 'ops' has no members"},
		{http.Header{"X-Sigr-Delivered": {"0"}}, 0, true, "", "delivered to 0 connections"},
		{http.Header{"X-Sigr-Delivered": {"many"}}, 0, false, "", ""},
		{http.Header{"X-Sigr-Delivered": {"-1"}}, 0, false, "", ""},
		// Any server may answer: its text is made safe to print.
		{http.Header{"X-Sigr-Delivered": {"0"}, "X-Sigr-Undelivered": {"evil \x1b[2J\u202e"}}, 0, true, `evil \x1b[2J\u202e`, `delivered to 0 connections: evil \x1b[2J\u202e`},
	}
	for _, c := range cases {
		o := manage.Outcome{Status: 202, Header: c.h}
		n, known := o.Delivered()
		if n != c.n || known != c.known || o.Undelivered() != c.why || o.Explain() != c.explain {
			t.Errorf("%v: Delivered %d %v, Undelivered %q, Explain %q", c.h, n, known, o.Undelivered(), o.Explain())
		}
	}
	o := manage.Outcome{Status: 200, Header: http.Header{"X-Sigr-Applied": {"0"}, "X-Sigr-Unapplied": {"no connection for user 'Bob'"}}}
	if n, known := o.Applied(); n != 0 || !known || o.Unapplied() != "no connection for user 'Bob'" || o.Explain() != "applied to 0 connections: no connection for user 'Bob'" {
		t.Errorf("applied: %d %v %q %q", n, known, o.Unapplied(), o.Explain())
	}
	if _, known := o.Delivered(); known {
		t.Error("a group action's outcome reads as delivered")
	}
}
