package emulator

import (
	"iter"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sigr-dev/sigr/protocol"
)

// Delivery outcomes: every REST send answers how many connections the
// message was written to (protocol.HeaderDelivered) and, for none, why
// (HeaderUndelivered); every group action how many connections it applied
// to now (HeaderApplied) and, for none, why (HeaderUnapplied). The reasons
// name what the caller most likely got wrong: a user id in the wrong case,
// a group nobody is in, a user id where a connection id belongs, another
// hub. They are header values, so they are one line of printable ASCII:
// every name is escaped as a Go string literal would escape it.

// maxListed is how many names a reason lists before "and N more".
const maxListed = 10

// maxNameInReason bounds one name in a reason, in bytes of the original.
const maxNameInReason = 64

// maxReason bounds a whole reason, well under any proxy's header limit.
const maxReason = 1024

// esc is s as a reason shows it: printable ASCII, the rest escaped as in a
// Go string literal, cut to maxNameInReason bytes with "..." marking it.
func esc(s string) string {
	cut := false
	if len(s) > maxNameInReason {
		n := maxNameInReason
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s, cut = s[:n], true
	}
	q := strconv.QuoteToASCII(s)
	q = q[1 : len(q)-1]
	if cut {
		q += "..."
	}
	return q
}

// quoted is esc in single quotes, for a name in running text.
func quoted(s string) string { return "'" + esc(s) + "'" }

// scan walks a set of names once, as a reason needs it: the first
// maxListed in sorted order for a list, and the near misses of name. It
// never sorts the whole set: a hub may hold thousands of users, and this
// runs under the service's lock.
type scan struct {
	name  string // "" when no near miss is wanted
	first []string
	total int
	near  []string
}

func (sc *scan) add(n string) {
	sc.total++
	if sc.name != "" && nearly(n, sc.name) {
		sc.near = append(sc.near, n)
	}
	if len(sc.first) == maxListed && n >= sc.first[maxListed-1] {
		return // the common case in a big set: one comparison
	}
	i, _ := slices.BinarySearch(sc.first, n)
	sc.first = slices.Insert(sc.first, i, n)
	if len(sc.first) > maxListed {
		sc.first = sc.first[:maxListed]
	}
}

// list names the first names, then how many more there are.
func (sc *scan) list() string {
	out := make([]string, len(sc.first))
	for i, n := range sc.first {
		out[i] = esc(n)
	}
	s := strings.Join(out, ", ")
	if sc.total > len(sc.first) {
		s += " and " + strconv.Itoa(sc.total-len(sc.first)) + " more"
	}
	return s
}

// listed is scan's list of names.
func listed(names iter.Seq[string]) string {
	var sc scan
	for n := range names {
		sc.add(n)
	}
	return sc.list()
}

// countOf is "1 connection", "2 connections".
func countOf(n int, what string) string {
	s := strconv.Itoa(n) + " " + what
	if n != 1 {
		s += "s"
	}
	return s
}

// clipReason keeps a reason within maxReason.
func clipReason(s string) string {
	if len(s) <= maxReason {
		return s
	}
	return s[:maxReason-3] + "..."
}

// nearly reports whether a and b differ only in case or surrounding
// white space: the mistakes a user id or a group name typed by hand has.
// It runs for every name of a hub, so the usual answer costs a length
// comparison.
func nearly(a, b string) bool {
	if !edgeSpace(a) && !edgeSpace(b) {
		return len(a) == len(b) && strings.EqualFold(a, b) && a != b
	}
	return a != b && strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}

// edgeSpace reports white space at either end of s, or a non-ASCII last
// byte (which may end a wider space).
func edgeSpace(s string) bool {
	if s == "" {
		return false
	}
	first, last := s[0], s[len(s)-1]
	space := func(c byte) bool {
		return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c >= utf8.RuneSelf
	}
	return space(first) || space(last)
}

// exactness says how names are compared, given the near misses found.
func exactness(what, name string, near []string) string {
	for _, n := range near {
		if !strings.EqualFold(n, name) {
			return "; " + what + " are compared exactly, white space included"
		}
	}
	return "; " + what + " are case-sensitive"
}

// whyUndelivered says why a send to name (scope t) in hubName reached no
// connection. recips is how many connections it was addressed to, which
// all were closing when it is not zero.
func (s *Service) whyUndelivered(hubName string, t target, name string, excluded []string, recips int) string {
	if recips == 1 {
		return "the connection it was addressed to was closing"
	}
	if recips > 1 {
		return "the " + countOf(recips, "connection") + " it was addressed to were closing"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.hubLocked(hubName, false)
	var r string
	switch t {
	case toAll:
		if h == nil || len(h.conns) == 0 {
			r = "hub " + quoted(hubKey(hubName)) + " has no connections" + s.otherHubsLocked(hubName)
		} else {
			r = "every connection of hub " + quoted(hubKey(hubName)) + " is excluded (" + countOf(len(h.conns), "connection") + ", " + strconv.Itoa(len(excluded)) + " excluded)"
		}
	case toUser:
		r = "no connection for user " + quoted(name) + s.userHintLocked(h, hubName, name)
	case toGroup:
		r = s.groupReasonLocked(h, hubName, name)
	case toConn:
		r = "no connection " + quoted(name) + s.connHintLocked(h, hubName, name)
	}
	return clipReason(r)
}

// userHintLocked says what the hub has instead of user name: a user id
// that differs in case, the connected users, a connection with that id,
// the same user on another hub.
func (s *Service) userHintLocked(h *hub, hubName, name string) string {
	if h == nil || len(h.conns) == 0 {
		return "; hub " + quoted(hubKey(hubName)) + " has no connections" + s.userElsewhereLocked(hubName, name)
	}
	var b strings.Builder
	sc := scan{name: name}
	withUser := 0
	for u, set := range h.users {
		sc.add(u)
		withUser += len(set)
	}
	if len(sc.near) > 0 {
		b.WriteString(exactness("user ids", name, sc.near))
	}
	if h.conns[name] != nil {
		b.WriteString("; " + quoted(name) + " is a connection id, not a user id")
	}
	if len(h.users) > 0 {
		b.WriteString("; connected users: " + sc.list())
		if anon := len(h.conns) - withUser; anon > 0 {
			b.WriteString(" (and " + countOf(anon, "anonymous connection") + ")")
		}
	} else {
		b.WriteString("; no connection of hub " + quoted(hubKey(hubName)) + " has a user id (" + countOf(len(h.conns), "anonymous connection") + ")")
	}
	b.WriteString(s.userElsewhereLocked(hubName, name))
	return b.String()
}

// userElsewhereLocked names the other hubs where user name is connected.
func (s *Service) userElsewhereLocked(hubName, name string) string {
	var hubs []string
	for k, h := range s.hubs {
		if k != hubKey(hubName) && len(h.users[name]) > 0 {
			hubs = append(hubs, k)
		}
	}
	if len(hubs) == 0 {
		return ""
	}
	return "; user " + quoted(name) + " is connected to hub " + listed(slices.Values(hubs))
}

// otherHubsLocked names the hubs that do have connections.
func (s *Service) otherHubsLocked(hubName string) string {
	var hubs []string
	for k, h := range s.hubs {
		if k != hubKey(hubName) && len(h.conns) > 0 {
			hubs = append(hubs, k)
		}
	}
	if len(hubs) == 0 {
		return ""
	}
	return "; hubs with connections: " + listed(slices.Values(hubs))
}

// groupReasonLocked says why a send to group name reached nobody.
func (s *Service) groupReasonLocked(h *hub, hubName, name string) string {
	if h != nil && len(h.groups[name]) > 0 {
		return "every connection in group " + quoted(name) + " is excluded (" + countOf(len(h.groups[name]), "connection") + ")"
	}
	r := "group " + quoted(name) + " has no members"
	if h == nil || len(h.conns) == 0 {
		r += "; hub " + quoted(hubKey(hubName)) + " has no connections"
	}
	if h != nil {
		sc := scan{name: name}
		for g := range h.groups {
			sc.add(g)
		}
		if len(sc.near) > 0 {
			r += exactness("group names", name, sc.near)
		}
		if len(h.groups) > 0 {
			r += "; groups with members: " + sc.list()
		}
		var waiting []string
		for u, ug := range h.userGroups {
			if ug[name] != nil {
				waiting = append(waiting, u)
			}
		}
		if len(waiting) > 0 {
			r += "; users in it with no connection now: " + listed(slices.Values(waiting))
		}
	}
	var hubs []string
	for k, o := range s.hubs {
		if k != hubKey(hubName) && len(o.groups[name]) > 0 {
			hubs = append(hubs, k)
		}
	}
	if len(hubs) > 0 {
		r += "; group " + quoted(name) + " has members in hub " + listed(slices.Values(hubs))
	}
	return r
}

// connHintLocked says what the hub has instead of connection id: a user
// by that name, an id that differs in case, the connection on another hub.
func (s *Service) connHintLocked(h *hub, hubName, id string) string {
	var b strings.Builder
	if h != nil {
		if len(h.users[id]) > 0 {
			b.WriteString("; " + quoted(id) + " is a user id, not a connection id: send to the user")
		} else {
			for u := range h.users {
				if nearly(u, id) {
					b.WriteString("; " + quoted(id) + " is not a connection id, and user " + quoted(u) + " is connected")
					break
				}
			}
		}
		for other := range h.conns {
			if nearly(other, id) {
				b.WriteString("; connection ids are case-sensitive: " + quoted(other) + " is connected")
				break
			}
		}
	}
	for k, o := range s.hubs {
		if k != hubKey(hubName) && o.conns[id] != nil {
			b.WriteString("; it is connected to hub " + quoted(k))
		}
	}
	if h == nil || len(h.conns) == 0 {
		b.WriteString("; hub " + quoted(hubKey(hubName)) + " has no connections")
	}
	return b.String()
}

// userApplied counts the connections user has in hubName for a group
// action on that user, and when there are none says why.
func (s *Service) userApplied(hubName, user, group string, ttl0 bool) (int, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.hubLocked(hubName, false)
	if h != nil && len(h.users[user]) > 0 {
		return len(h.users[user]), ""
	}
	r := "no connection for user " + quoted(user) + s.userHintLocked(h, hubName, user)
	switch {
	case group == "":
	case ttl0:
		r += "; ttl=0 adds only the connections the user has now, so nothing changed"
	case h != nil && h.userGroups[user][group] != nil:
		r += "; the membership in " + quoted(group) + " applies when the user connects"
	}
	return 0, clipReason(r)
}

// connUnapplied says why a group action on connection id found nothing.
func (s *Service) connUnapplied(hubName, id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return clipReason("no connection " + quoted(id) + s.connHintLocked(s.hubLocked(hubName, false), hubName, id))
}

// setApplied writes a group action's outcome headers.
func setApplied(w http.ResponseWriter, n int, reason string) {
	w.Header().Set(protocol.HeaderApplied, strconv.Itoa(n))
	if n == 0 && reason != "" {
		w.Header().Set(protocol.HeaderUnapplied, reason)
	}
}

// outcomeHeaders are the service's outcome headers, which the function
// app copies to its own answer.
var outcomeHeaders = []string{protocol.HeaderDelivered, protocol.HeaderUndelivered, protocol.HeaderApplied, protocol.HeaderUnapplied}
