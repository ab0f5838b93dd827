package emulator

import (
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkSweep measures one sweep, during which the service's lock is
// held, with many user-group memberships of which few expire: the cost
// of a sweep must follow what expires, not what is kept.
func BenchmarkSweep(b *testing.B) {
	for _, n := range []int{100_000, 3_000_000} {
		for _, expiring := range []int{0, 1000} {
			b.Run(fmt.Sprintf("memberships=%d/expiring=%d", n, expiring), func(b *testing.B) {
				var offset atomic.Int64
				s := NewService(ServiceOptions{
					Logger:        quietLogger(),
					SweepInterval: time.Hour, // only the benchmark sweeps
					Now:           func() time.Time { return time.Unix(1_800_000_000, 0).Add(time.Duration(offset.Load())) },
				})
				defer s.Close()
				const perUser = 10
				long := 10 * 365 * 24 * time.Hour
				for i := range n {
					s.addUserToGroup("chat", fmt.Sprint("u", i/perUser), fmt.Sprint("g", i%perUser), long)
				}
				round := 0
				for b.Loop() {
					if expiring > 0 {
						b.StopTimer()
						for i := range expiring {
							s.addUserToGroup("chat", fmt.Sprint("short", round, "-", i/perUser), fmt.Sprint("g", i%perUser), time.Second)
						}
						offset.Add(int64(2 * time.Second))
						round++
						b.StartTimer()
					}
					s.sweep()
				}
			})
		}
	}
}

// TestExpiryIndex runs random adds, re-adds, removals and sweeps against a
// plain model: the index must hold exactly the memberships the hubs hold,
// each at its own position, and a sweep must remove exactly what expired.
func TestExpiryIndex(t *testing.T) {
	var offset atomic.Int64
	s := NewService(ServiceOptions{
		Logger:        quietLogger(),
		SweepInterval: time.Hour,
		Now:           func() time.Time { return time.Unix(1_800_000_000, 0).Add(time.Duration(offset.Load())) },
	})
	defer s.Close()
	model := map[modelKey]time.Time{}
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func() modelKey {
		return modelKey{fmt.Sprint("h", rng.IntN(3)), fmt.Sprint("u", rng.IntN(8)), fmt.Sprint("g", rng.IntN(12))}
	}
	for step := range 20_000 {
		now := s.opts.Now()
		switch op := rng.IntN(10); {
		case op < 5:
			k := pick()
			ttl := time.Duration(rng.IntN(12)-1) * time.Second // -1 s (none), 0, 1..10 s
			s.addUserToGroup(k.hub, k.user, k.group, ttl)
			switch {
			case ttl < 0:
				model[k] = now.Add(noTTLLifetime)
			case ttl > 0:
				model[k] = now.Add(ttl)
			}
		case op < 7:
			k := pick()
			s.removeUserFromGroup(k.hub, k.user, k.group)
			delete(model, k)
		case op < 8:
			k := pick()
			s.removeUserFromAllGroups(k.hub, k.user)
			for m := range model {
				if m.hub == k.hub && m.user == k.user {
					delete(model, m)
				}
			}
		default:
			offset.Add(int64(time.Duration(rng.IntN(1500)) * time.Millisecond))
			s.sweep()
			now = s.opts.Now()
			for k, exp := range model {
				if !now.Before(exp) {
					delete(model, k)
				}
			}
		}
		if err := checkIndex(s, model); err != "" {
			t.Fatalf("step %d: %s", step, err)
		}
	}
}

// checkIndex compares the hubs' memberships with the model and the index;
// it returns what differs, after unlocking, so a failing test can still
// close the service.
func checkIndex(s *Service, model map[modelKey]time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	held := 0
	for _, h := range s.hubs {
		for user, ug := range h.userGroups {
			for g, m := range ug {
				held++
				k := modelKey{h.name, user, g}
				if exp, ok := model[k]; !ok || !exp.Equal(m.expires) {
					return fmt.Sprintf("%v held until %v, model says %v (%t)", k, m.expires, exp, ok)
				}
				if m.idx < 0 || m.idx >= len(s.expiries) || s.expiries[m.idx] != m {
					return fmt.Sprintf("%v is not at its index %d", k, m.idx)
				}
			}
		}
	}
	if held != len(model) || held != len(s.expiries) {
		return fmt.Sprintf("hubs hold %d memberships, the index %d, the model %d", held, len(s.expiries), len(model))
	}
	return ""
}

type modelKey struct{ hub, user, group string }
