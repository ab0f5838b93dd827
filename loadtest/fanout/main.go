package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	rpprof "runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sigr-dev/sigr/emulator"
	"github.com/sigr-dev/sigr/internal/procstat"
	"github.com/sigr-dev/sigr/loadtest"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: fanout serve | fanout run -cs CS -stats URL [-hold N] [-latency N,N] [-rate R,R] [-duration D] | fanout floor [-n N] [-rate R] [-duration D] [-size B]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve()
	case "run":
		err = run(os.Args[2:])
	case "floor":
		err = floor(os.Args[2:])
	default:
		err = fmt.Errorf("unknown subcommand %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fanout:", err)
		os.Exit(1)
	}
}

// Stats is the server process's memory, as /stats reports it.
type Stats struct {
	RSS        int64 `json:"rss"` // bytes, VmRSS
	HeapInuse  int64 `json:"heapInuse"`
	StackInuse int64 `json:"stackInuse"`
	Sys        int64 `json:"sys"`
	Goroutines int   `json:"goroutines"`
	FDs        int   `json:"fds"`
}

func readStats(gc bool) Stats {
	if gc {
		runtime.GC()
		debug.FreeOSMemory()
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	ps := procstat.Read()
	s := Stats{RSS: ps.RSS, HeapInuse: ps.HeapInuse, StackInuse: int64(ms.StackInuse), Sys: int64(ms.Sys), Goroutines: ps.Goroutines}
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		s.FDs = len(ents)
	}
	return s
}

func serve() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := emulator.StartStack(ctx, emulator.StackOptions{
		ServiceAddr: "127.0.0.1:0", FunctionsAddr: "127.0.0.1:0",
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return err
	}
	defer st.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(readStats(r.URL.Query().Get("gc") == "1"))
	})
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	out, _ := json.Marshal(map[string]string{
		"connectionString": st.ConnectionString,
		"functionsURL":     st.FunctionsURL,
		"statsURL":         "http://" + ln.Addr().String() + "/stats",
		"pprofURL":         "http://" + ln.Addr().String() + "/debug/pprof/",
	})
	fmt.Println(string(out))
	// Runs until standard input closes (the driving script exits) or a signal.
	stdin := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, bufio.NewReader(os.Stdin)); close(stdin) }()
	select {
	case <-stdin:
	case <-ctx.Done():
	}
	return nil
}

func getStats(ctx context.Context, url string) (Stats, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"?gc=1", nil)
	if err != nil {
		return Stats{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Stats{}, err
	}
	defer resp.Body.Close()
	var s Stats
	return s, json.NewDecoder(resp.Body).Decode(&s)
}

func run(args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	cs := fs.String("cs", "", "the emulator's connection string")
	statsURL := fs.String("stats", "", "the server's /stats URL")
	hold := fs.Int("hold", 10000, "idle connections to open (0: skip)")
	holdFor := fs.Duration("hold-for", 5*time.Second, "how long to keep them open before measuring")
	latency := fs.String("latency", "1000,5000", "connection counts for the broadcast latency runs (empty: skip)")
	duration := fs.Duration("duration", 20*time.Second, "send phase of each latency run")
	rates := fs.String("rate", "1", "broadcasts per second of the latency runs; a list runs each rate in turn")
	concurrency := fs.Int("concurrency", 128, "connects in flight")
	senders := fs.Int("senders", 32, "broadcasts in flight in the latency runs: a tick that finds them all busy is skipped")
	asJSON := fs.Bool("json", false, "print one JSON object per measurement")
	cpuProfile := fs.String("cpuprofile", "", "write this process's CPU profile (the connections' side) to the file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		pf, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := rpprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer rpprof.StopCPUProfile()
	}
	if *cs == "" || *statsURL == "" {
		return errors.New("-cs and -stats are required")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	emit := func(kind string, v any) {
		if *asJSON {
			b, _ := json.Marshal(map[string]any{"kind": kind, "result": v})
			fmt.Println(string(b))
		}
	}
	if *hold > 0 {
		base, err := getStats(ctx, *statsURL)
		if err != nil {
			return fmt.Errorf("reading the server's stats: %w", err)
		}
		var held Stats
		start := time.Now()
		hr, err := loadtest.Hold(ctx, loadtest.Options{
			ConnectionString: *cs, Connections: *hold, ConnectConcurrency: *concurrency, UserPrefix: "hold",
		}, func(ctx context.Context, n int) {
			fmt.Fprintf(os.Stderr, "fanout: %d connections open after %s; holding %s\n", n, time.Since(start).Round(time.Millisecond), *holdFor)
			select {
			case <-time.After(*holdFor):
			case <-ctx.Done():
			}
			held, _ = getStats(ctx, *statsURL)
		})
		if err != nil {
			return err
		}
		per := func(a, b int64) float64 { return float64(a-b) / float64(hr.Connected) / 1024 }
		r := map[string]any{
			"asked": hr.Connections, "held": hr.Connected - hr.Dropped, "connectErrors": hr.ConnectErrors, "dropped": hr.Dropped,
			"connectP50Ms": hr.Connect.P50, "connectP99Ms": hr.Connect.P99,
			"rssBaseMB": float64(base.RSS) / (1 << 20), "rssHeldMB": float64(held.RSS) / (1 << 20),
			"rssPerConnKB": per(held.RSS, base.RSS), "heapPerConnKB": per(held.HeapInuse, base.HeapInuse),
			"stackPerConnKB": per(held.StackInuse, base.StackInuse), "goroutinesPerConn": float64(held.Goroutines-base.Goroutines) / float64(hr.Connected),
		}
		emit("hold", r)
		if !*asJSON {
			fmt.Printf("idle connections: %d of %d held (%d connect errors, %d dropped), connect p50 %.1f ms p99 %.1f ms\n",
				hr.Connected-hr.Dropped, hr.Connections, hr.ConnectErrors, hr.Dropped, hr.Connect.P50, hr.Connect.P99)
			fmt.Printf("server memory: RSS %.0f MB -> %.0f MB: %.1f KB per connection (heap %.1f KB, stacks %.1f KB, %.1f goroutines)\n",
				r["rssBaseMB"], r["rssHeldMB"], r["rssPerConnKB"], r["heapPerConnKB"], r["stackPerConnKB"], r["goroutinesPerConn"])
		}
		for _, e := range hr.Errors {
			fmt.Fprintf(os.Stderr, "fanout: hold error ×%d: %s\n", e.Count, e.Error)
		}
	}
	var rs []float64
	for _, f := range strings.Split(*rates, ",") {
		r, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || r <= 0 {
			return fmt.Errorf("-rate: %q is not a rate", f)
		}
		rs = append(rs, r)
	}
	for _, f := range strings.Split(*latency, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return fmt.Errorf("-latency: %q is not a connection count", f)
		}
		for _, rate := range rs {
			res, err := loadtest.Run(ctx, loadtest.Options{
				ConnectionString: *cs, Via: loadtest.ViaREST, Mode: loadtest.Broadcast,
				Connections: n, ConnectConcurrency: *concurrency, Rate: rate, Duration: *duration, Settle: 5 * time.Second, Senders: *senders,
				UserPrefix: "lat" + f,
			})
			if err != nil {
				return err
			}
			emit("latency", res)
			if !*asJSON {
				printLatency(res)
			}
			for _, e := range res.Errors {
				fmt.Fprintf(os.Stderr, "fanout: latency error ×%d: %s\n", e.Count, e.Error)
			}
		}
	}
	return nil
}

// printLatency writes one latency run as a line, with the emulator's own
// cost per delivery.
func printLatency(res *loadtest.Result) {
	sent := 0.0
	if res.SendSecs > 0 {
		sent = float64(res.Sent) / res.SendSecs
	}
	// Sends skip the ticks that find every sender busy, so the rate sent
	// can fall short of the rate asked: the rate a run sustained is sent/s.
	fmt.Printf("broadcast %.4g/s asked, %.4g/s sent (%d skipped), to %d connections for %.0f s: latency p50 %.2f ms p90 %.2f ms p99 %.2f ms max %.2f ms; %d of %d delivered, %d lost, %d dropped\n",
		res.Rate, sent, res.LateSends, res.Connected, res.SendSecs, res.Latency.P50, res.Latency.P90, res.Latency.P99, res.Latency.Max, res.Delivered, res.Expected, res.Lost, res.Dropped)
	cost := func(name string, c *loadtest.ProcessCost) {
		fmt.Printf("  %s: %.1f µs CPU and %.2f allocations per delivery (%.2f s CPU, %d allocations in %.1f s)\n",
			name, c.CPUMicrosPerDelivery, c.AllocsPerDelivery, c.CPUSeconds, c.Allocs, c.Seconds)
	}
	if res.Server != nil {
		cost("emulator process", res.Server)
	} else if res.ServerNote != "" {
		fmt.Printf("  emulator process: %s\n", res.ServerNote)
	}
	if res.Client != nil {
		cost("connections' process", res.Client)
	}
}
