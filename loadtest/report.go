package loadtest

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText writes the result as a short human-readable report.
func (r *Result) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := func(format string, a ...any) { fmt.Fprintf(tw, format+"\n", a...) }
	pct := func(name string, x Percentiles) {
		if x.Count == 0 {
			p("%s\t(none)", name)
			return
		}
		p("%s\tp50 %s\tp90 %s\tp99 %s\tmax %s\t(n=%d)", name, ms(x.P50), ms(x.P90), ms(x.P99), ms(x.Max), x.Count)
	}
	to := string(r.Mode)
	if r.Mode == ToGroup {
		to = fmt.Sprintf("group (%d groups)", r.Groups)
	}
	p("target\t%s  hub %s  via %s  to %s", r.Target, r.Hub, r.Via, to)
	p("connections\t%d of %d connected, %d failed, %d dropped during the run", r.Connected, r.Connections, r.ConnectErrors, r.Dropped)
	pct("connect time", r.Connect)
	p("sends\t%d in %.1f s (%.1f/s asked), %d failed, %d skipped (senders busy)", r.Sent, r.SendSecs, r.Rate, r.SendErrors, r.LateSends)
	pct("send time", r.Send)
	p("deliveries\t%d of %d expected, %d lost, %d duplicate", r.Delivered, r.Expected, r.Lost, r.Duplicates)
	pct("latency", r.Latency)
	p("throughput\t%.0f msgs/s delivered", r.DeliveredPS)
	cost := func(name string, c *ProcessCost) {
		p("%s\t%.1f µs CPU\t%.2f allocs per delivery\t(%.2f s CPU, %d allocs in %.1f s; RSS %.0f MB)",
			name, c.CPUMicrosPerDelivery, c.AllocsPerDelivery, c.CPUSeconds, c.Allocs, c.Seconds, float64(c.RSS)/(1<<20))
	}
	switch {
	case r.Server != nil:
		cost("emulator cost", r.Server)
	case r.ServerNote != "":
		p("emulator cost\t%s", r.ServerNote)
	}
	if r.Client != nil {
		cost("this process", r.Client)
	}
	if r.Interrupted {
		p("note\tinterrupted before the end")
	}
	for i, e := range r.Errors {
		if i == 5 {
			p("\t... %d more distinct errors (see --json)", len(r.Errors)-5)
			break
		}
		p("error ×%d\t%s", e.Count, strings.ReplaceAll(e.Error, "\n", " "))
	}
	return tw.Flush()
}

func ms(v float64) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%.2fs", v/1000)
	case v >= 10:
		return fmt.Sprintf("%.0fms", v)
	default:
		return fmt.Sprintf("%.2fms", v)
	}
}
