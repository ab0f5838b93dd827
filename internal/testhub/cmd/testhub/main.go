package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/sigr-dev/sigr/internal/testhub"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:5000", "address to listen on")
	verbose := flag.Bool("v", false, "log every connection and invocation on standard error")
	flag.Parse()
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	s, err := testhub.Listen(*addr, testhub.Options{Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))})
	if err != nil {
		fmt.Fprintln(os.Stderr, "testhub:", err)
		os.Exit(1)
	}
	fmt.Printf("hub at %s (WebSockets, ServerSentEvents)\nmethods:\n", s.URL())
	for _, m := range testhub.Methods {
		fmt.Printf("  %s(%s)  %s\n", m.Name, strings.Join(m.Params, ", "), m.Doc)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	_ = s.Close()
}
