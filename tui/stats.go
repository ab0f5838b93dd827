package tui

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sigr-dev/sigr/protocol"
)

// stats is the traffic the screen counts: every record received, the rate,
// what the Feed dropped, and counts and rates per target. Its memory is the
// number of targets, whatever the history.
type stats struct {
	com     *common
	targets map[string]*targetStat
	order   []*targetStat // in the order first seen
	sel     int           // the target selected in the sidebar, by rank; -1 none
	// perMessage counts each message once, however many of our
	// connections received it, as the stream's per-message view shows.
	perMessage bool
	total      rate
	count      int
	dropped    int
}

// targetStat is what the sidebar knows about one target.
type targetStat struct {
	name  string
	count int // receipts: one per connection that received a message
	msgs  int // messages: their first receipts
	rate  rate
}

func newStats(com *common) *stats {
	return &stats{com: com, targets: map[string]*targetStat{}, sel: -1}
}

// moveSelection moves the TARGETS selection by n within the first rows
// shown; it returns false, leaving none selected, when it moves up out of
// them.
func (s *stats) moveSelection(n, rows int) bool {
	shown := min(len(s.order), rows)
	if shown == 0 {
		s.sel = -1
		return false
	}
	s.sel += n
	if s.sel < 0 {
		s.sel = -1
		return false
	}
	s.sel = min(s.sel, shown-1)
	return true
}

// selectedTarget is the target selected in the sidebar, shown in rows
// rows, or "".
func (s *stats) selectedTarget(rows int) string {
	ts := s.top(rows)
	if s.sel < 0 || s.sel >= len(ts) {
		return ""
	}
	return ts[s.sel].name
}

func (s *stats) target(name string) *targetStat {
	t := s.targets[name]
	if t == nil {
		t = &targetStat{name: name}
		s.targets[name] = t
		s.order = append(s.order, t)
	}
	return t
}

// received counts one record: a message, or a record that failed to parse
// (msg nil). Only invocations count per target.
func (s *stats) received(t time.Time, msg *protocol.Message) {
	s.count++
	s.total.add(t, 1)
	if msg != nil && (msg.Type == protocol.TypeInvocation || msg.Type == protocol.TypeStreamInvocation) {
		ts := s.target(msg.Target)
		ts.count++
		ts.rate.add(t, 1)
	}
}

// firstReceipt counts a message once, at its first receipt, for the
// per-message view.
func (s *stats) firstReceipt(msg *protocol.Message) {
	if msg.Type == protocol.TypeInvocation || msg.Type == protocol.TypeStreamInvocation {
		s.target(msg.Target).msgs++
	}
}

// shown is t's count as the sidebar shows it: per message or per receipt.
func (s *stats) shown(t *targetStat) int {
	if s.perMessage {
		return t.msgs
	}
	return t.count
}

// droppedByFeed counts the records the Feed dropped: they were received, so
// they count in the totals and per target, though no row shows them.
func (s *stats) droppedByFeed(now time.Time, n int, byTarget map[string]int) {
	if n <= 0 {
		return
	}
	s.dropped += n
	s.count += n
	s.total.add(now, n)
	for t, k := range byTarget {
		// Which of them were copies is unknown: each counts as a message.
		ts := s.target(t)
		ts.count += k
		ts.msgs += k
	}
}

func (s *stats) clear() {
	*s = stats{com: s.com, targets: map[string]*targetStat{}, sel: -1, perMessage: s.perMessage}
}

// top returns the n busiest targets. Sorting copies only the small
// per-target table, never the history.
func (s *stats) top(n int) []*targetStat {
	ts := slices.Clone(s.order)
	slices.SortStableFunc(ts, func(a, b *targetStat) int { return s.shown(b) - s.shown(a) })
	if len(ts) > n {
		ts = ts[:n]
	}
	return ts
}

// Render returns the sidebar's target rows, at most rows of them, w cells
// wide: the busiest targets with their counts and a sparkline of the last
// seconds.
func (s *stats) Render(w, rows int, now time.Time, focused bool) []string {
	st := s.com.styles
	if len(s.order) == 0 {
		return []string{st.Faint.Render(fit(" none yet", w))}
	}
	var lines []string
	for i, t := range s.top(max(rows, 0)) {
		count := strconv.Itoa(s.shown(t))
		spark := sparkline(t.rate.series(now, 6))
		nameW := max(w-1-len(count)-1-6-1, 3)
		name := fit(sanitize(t.name), nameW)
		if i == s.sel && focused {
			lines = append(lines, st.Selected.Render(fit(" "+name+" "+count+" "+spark, w)))
			continue
		}
		lines = append(lines, " "+st.Stream.Target.Render(name)+" "+st.Muted.Render(count)+" "+st.Spark.Render(spark))
	}
	return lines
}

var sparkRunes = []rune("▁▂▃▄▅▆▇█")

// sparkline draws counts as a small bar chart, scaled to their maximum.
func sparkline(counts []int) string {
	peak := 0
	for _, c := range counts {
		peak = max(peak, c)
	}
	var b strings.Builder
	for _, c := range counts {
		if c == 0 || peak == 0 {
			b.WriteRune(' ')
			continue
		}
		i := (c*len(sparkRunes) - 1) / peak
		b.WriteRune(sparkRunes[clampInt(i, 0, len(sparkRunes)-1)])
	}
	return b.String()
}

// rate counts events per second over a short sliding window.
type rate struct {
	buckets [rateWindow]int
	sec     int64 // the unix second of the newest bucket
}

const rateWindow = 12

func (r *rate) roll(now time.Time) {
	s := now.Unix()
	if s <= r.sec {
		return
	}
	if s-r.sec >= rateWindow {
		r.buckets = [rateWindow]int{}
	} else {
		for t := r.sec + 1; t <= s; t++ {
			r.buckets[t%rateWindow] = 0
		}
	}
	r.sec = s
}

func (r *rate) add(t time.Time, n int) {
	s := t.Unix()
	if s > r.sec {
		r.roll(t)
	}
	if r.sec-s >= rateWindow {
		return
	}
	r.buckets[s%rateWindow] += n
}

// perSecond is the mean rate over the last complete seconds.
func (r *rate) perSecond(now time.Time) float64 {
	const span = 5
	s := now.Unix()
	total := 0
	for t := s - span; t < s; t++ {
		if r.sec-t >= rateWindow || t > r.sec {
			continue
		}
		total += r.buckets[((t%rateWindow)+rateWindow)%rateWindow]
	}
	return float64(total) / span
}

// series returns the counts of the last n seconds, oldest first, the current
// second last.
func (r *rate) series(now time.Time, n int) []int {
	if n > rateWindow {
		n = rateWindow
	}
	out := make([]int, n)
	s := now.Unix()
	for i := range n {
		t := s - int64(n-1-i)
		if t > r.sec || r.sec-t >= rateWindow {
			continue
		}
		out[i] = r.buckets[((t%rateWindow)+rateWindow)%rateWindow]
	}
	return out
}
