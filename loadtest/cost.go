package loadtest

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/sigr-dev/sigr/internal/procstat"
	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
)

// ProcessCost is what one process spent over a run's send phase, between
// two samples of its counters: one just before the first send (for the
// emulator, once it has gone quiet after the connects), one once the last
// delivery arrived (or Settle ran out). It covers everything the
// process did meanwhile (for the service: the sends' REST calls, the
// deliveries, the idle connections' pings), which is what serving the
// load cost it.
type ProcessCost struct {
	Seconds    float64 `json:"seconds"`    // between the two samples
	CPUSeconds float64 `json:"cpuSeconds"` // user + system
	Allocs     uint64  `json:"allocs"`     // heap allocations
	// Per delivery: CPUSeconds and Allocs over Result.Delivered.
	CPUMicrosPerDelivery float64 `json:"cpuMicrosPerDelivery"`
	AllocsPerDelivery    float64 `json:"allocsPerDelivery"`
	// RSS is the process's resident set at the second sample, in bytes (0
	// where the system does not say).
	RSS int64 `json:"rss"`
}

// costBetween is the cost between two samples, per delivery.
func costBetween(a, b protocol.ProcessStats, delivered int64) *ProcessCost {
	c := &ProcessCost{
		Seconds:    b.Time.Sub(a.Time).Seconds(),
		CPUSeconds: b.CPUSeconds - a.CPUSeconds,
		Allocs:     b.Allocs - a.Allocs,
		RSS:        b.RSS,
	}
	if delivered > 0 {
		c.CPUMicrosPerDelivery = c.CPUSeconds * 1e6 / float64(delivered)
		c.AllocsPerDelivery = float64(c.Allocs) / float64(delivered)
	}
	return c
}

// serverProbe samples the counters of sigr's emulator (GET
// /_sigr/v1/process), when the run has a connection string that reaches
// it, and this process's own.
type serverProbe struct {
	in     manage.Inspect
	before protocol.ProcessStats
	self   protocol.ProcessStats
	note   string // why there is no server cost, once a sample failed
}

func newServerProbe(o Options, hc *http.Client) *serverProbe {
	p := &serverProbe{}
	if o.ConnectionString == "" {
		return p
	}
	cs, err := protocol.ParseConnectionString(o.ConnectionString)
	if err != nil {
		return p
	}
	p.in = manage.Inspect{Endpoint: cs.RESTBase(), AccessKey: cs.AccessKey, HTTPClient: hc}
	return p
}

func (p *serverProbe) sample(ctx context.Context) (protocol.ProcessStats, bool) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ps, err := manage.Process(ctx, p.in)
	var ee *manage.ExtensionError
	switch {
	case errors.As(err, &ee) && ee.NotEmulator():
		p.note = "the service is not sigr's emulator, which alone reports its process counters"
	case err != nil:
		p.note = strings.TrimPrefix(err.Error(), "process stats: ")
	case ps.CPUSeconds < 0:
		p.note = "the emulator's system does not report its CPU time"
	default:
		return ps, true
	}
	return ps, false
}

// Before its first sample, the probe waits (at most quietWait) until the
// emulator spends under quietShare of a core over quietStep: connects
// leave work behind them (the upstream's connected events, the closes of
// a run before), and it is not the deliveries'.
const (
	quietWait  = 10 * time.Second
	quietStep  = 200 * time.Millisecond
	quietShare = 0.1
)

// start takes the first samples, once the emulator has gone quiet.
func (p *serverProbe) start(ctx context.Context) {
	if p.in.Endpoint != "" {
		var ok bool
		p.before, ok = p.sample(ctx)
		for deadline := time.Now().Add(quietWait); ok && time.Now().Before(deadline); {
			select {
			case <-time.After(quietStep):
			case <-ctx.Done():
				return
			}
			var next protocol.ProcessStats
			if next, ok = p.sample(ctx); !ok {
				break
			}
			busy := (next.CPUSeconds - p.before.CPUSeconds) / next.Time.Sub(p.before.Time).Seconds()
			p.before = next
			if busy < quietShare {
				break
			}
		}
	}
	p.self = procstat.Read()
}

// finish takes the second samples and puts the costs in res.
func (p *serverProbe) finish(ctx context.Context, res *Result) {
	if self := procstat.Read(); self.CPUSeconds >= 0 {
		res.Client = costBetween(p.self, self, res.Delivered)
	}
	if p.in.Endpoint == "" {
		return
	}
	if p.note == "" {
		if after, ok := p.sample(ctx); ok {
			res.Server = costBetween(p.before, after, res.Delivered)
			return
		}
	}
	res.ServerNote = "not measured: " + p.note
}
