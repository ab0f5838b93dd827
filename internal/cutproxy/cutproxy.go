package cutproxy

import (
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"
)

// Proxy forwards loopback TCP connections to a target.
type Proxy struct {
	ln net.Listener
	wg sync.WaitGroup

	mu       sync.Mutex
	target   string
	conns    map[net.Conn]struct{}
	cuts     int
	lifetime time.Duration
	timers   map[*time.Timer]struct{}
	closed   bool
}

// New listens on 127.0.0.1:0; the test's cleanup closes the listener,
// cuts what is open and waits for every goroutine. Set the target with
// SetTarget before the first connection arrives.
func New(t testing.TB) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, conns: map[net.Conn]struct{}{}, timers: map[*time.Timer]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		p.closed = true
		for tm := range p.timers {
			if tm.Stop() {
				p.wg.Done()
			}
		}
		p.mu.Unlock()
		p.Cut()
		p.wg.Wait()
	})
	return p
}

// Addr returns the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// SetTarget sets the host:port new connections are forwarded to.
func (p *Proxy) SetTarget(hostport string) {
	p.mu.Lock()
	p.target = hostport
	p.mu.Unlock()
}

// SetLifetime makes every connection accepted from now on reset at a
// random moment between d/2 and d after it opened, wherever its transfer
// is; 0 turns that off.
func (p *Proxy) SetLifetime(d time.Duration) {
	p.mu.Lock()
	p.lifetime = d
	p.mu.Unlock()
}

// Cut resets every open connection (SO_LINGER 0: an RST, not a FIN) and
// returns how many it cut.
func (p *Proxy) Cut() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for c := range p.conns {
		reset(c)
		delete(p.conns, c)
		n++
	}
	p.cuts++
	return n
}

// reset closes c with an RST rather than a FIN (SO_LINGER 0).
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Close()
}

// Cuts returns how many times Cut ran.
func (p *Proxy) Cuts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cuts
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		target := p.target
		p.mu.Unlock()
		out, err := net.Dial("tcp", target)
		if err != nil {
			in.Close()
			continue
		}
		p.mu.Lock()
		p.conns[in], p.conns[out] = struct{}{}, struct{}{}
		if d := p.lifetime; d > 0 && !p.closed {
			p.wg.Add(1)
			var tm *time.Timer
			tm = time.AfterFunc(d/2+rand.N(d/2+1), func() {
				defer p.wg.Done()
				p.mu.Lock()
				delete(p.timers, tm)
				p.mu.Unlock()
				reset(in)
				reset(out)
			})
			p.timers[tm] = struct{}{}
		}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(out, in)
		go p.pipe(in, out)
	}
}

func (p *Proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}
