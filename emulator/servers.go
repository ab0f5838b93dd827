package emulator

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// servers runs one handler on any number of listeners and stops them all;
// the service and the function app each own one.
type servers struct {
	mu      sync.Mutex
	list    []*http.Server
	serving sync.WaitGroup
}

// start serves h on ln in the background until shutdown. name labels the
// log line written if serving stops for another reason.
func (v *servers) start(ln net.Listener, h http.Handler, log *slog.Logger, name string) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	v.mu.Lock()
	v.list = append(v.list, srv)
	v.mu.Unlock()
	v.serving.Add(1)
	go func() {
		defer v.serving.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error(name+" stopped serving", "addr", ln.Addr().String(), "err", err)
		}
	}()
}

// shutdown lets requests in flight finish for up to grace, closes what is
// left, and waits until every server has returned.
func (v *servers) shutdown(grace time.Duration) {
	v.mu.Lock()
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	for _, srv := range v.list {
		if err := srv.Shutdown(ctx); err != nil {
			_ = srv.Close()
		}
	}
	v.list = nil
	cancel()
	v.mu.Unlock()
	v.serving.Wait()
}
