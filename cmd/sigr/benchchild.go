package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sigr-dev/sigr/emulator"
)

// `sigr bench --emulator` runs the emulator as a child process, `sigr
// emulator` with a hidden flag, rather than in its own process: the
// emulator then reports CPU time and allocations that are its own
// (GET /_sigr/v1/process), not mixed with those of the thousands of
// connections the bench drives, which cost more than the emulator does.

// benchChildFlag is the hidden flag of `sigr emulator` that runs it for
// sigr bench.
const benchChildFlag = "bench-child"

// benchChildAddrs is the one line a bench child prints on standard output.
type benchChildAddrs struct {
	ConnectionString string `json:"connectionString"`
	FunctionsURL     string `json:"functionsURL"`
}

// runBenchChild is the child's side: the stack on the given addresses,
// its addresses as one JSON line, warnings on standard error, and a stop
// when standard input closes, which it does when the bench ends even if it
// is killed.
func runBenchChild(cmd *cobra.Command, f emulatorFlags) error {
	opts, err := stackOptions(cmd, f)
	if err != nil {
		return err
	}
	opts.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := emulator.StartStack(ctx, opts)
	if err != nil {
		return err
	}
	line, _ := json.Marshal(benchChildAddrs{ConnectionString: st.ConnectionString, FunctionsURL: st.FunctionsURL})
	fmt.Fprintln(cmd.OutOrStdout(), string(line))
	stdin := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, cmd.InOrStdin())
		close(stdin)
	}()
	select {
	case <-stdin:
	case <-ctx.Done():
	}
	return st.Close()
}

// startBenchChild starts `sigr emulator` as a bench child on free
// loopback ports and returns its addresses and the function that stops it
// and waits for it to exit. Its standard error goes to stderr.
func startBenchChild(ctx context.Context, stderr io.Writer) (benchChildAddrs, func(), error) {
	var addrs benchChildAddrs
	exe, err := os.Executable()
	if err != nil {
		return addrs, nil, fmt.Errorf("finding this program to run the emulator: %w", err)
	}
	cmd := exec.Command(exe, "emulator", "--service-addr", "127.0.0.1:0", "--functions-addr", "127.0.0.1:0", "--"+benchChildFlag)
	cmd.Stderr = stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return addrs, nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return addrs, nil, err
	}
	if err := cmd.Start(); err != nil {
		return addrs, nil, fmt.Errorf("starting the emulator (%s emulator): %w", exe, err)
	}
	exited := make(chan struct{})
	stop := func() {
		_ = in.Close()
		select {
		case <-exited:
			return
		case <-time.After(10 * time.Second):
		}
		_ = cmd.Process.Kill()
		<-exited
	}
	first := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(out).ReadString('\n')
		if err == nil {
			err = json.Unmarshal([]byte(line), &addrs)
		}
		first <- err
		_, _ = io.Copy(io.Discard, out)
		_ = cmd.Wait()
		close(exited)
	}()
	select {
	case err = <-first:
	case <-ctx.Done():
		err = ctx.Err()
	case <-time.After(30 * time.Second):
		err = errors.New("it printed nothing within 30 s")
	}
	if err == nil && !strings.HasPrefix(addrs.FunctionsURL, "http") {
		err = errors.New("its first line has no function app URL")
	}
	if err != nil {
		stop()
		return addrs, nil, fmt.Errorf("starting the emulator: %w", err)
	}
	return addrs, stop, nil
}
