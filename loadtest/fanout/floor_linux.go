package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// floor measures what the emulator's fan-out cannot go below on this
// machine: one write(2) of a frame of the same size to each of N loopback
// TCP connections, from one loop on one thread, with a goroutine reading
// the other end of each, as a client's does. It reports the writing
// thread's CPU time (getrusage RUSAGE_THREAD) per write, which includes
// what the kernel does for the write on loopback: the receiving side's
// TCP processing and waking the reader.
func floor(args []string) error {
	fs := flag.NewFlagSet("floor", flag.ContinueOnError)
	n := fs.Int("n", 5000, "connections")
	rate := fs.Float64("rate", 1, "rounds of writes per second")
	duration := fs.Duration("duration", 20*time.Second, "how long to write")
	size := fs.Int("size", 200, "bytes per write (a broadcast's frame is about 200)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n <= 0 || *rate <= 0 || *size <= 0 {
		return errors.New("-n, -rate and -size must be more than 0")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	servers := make([]syscall.RawConn, 0, *n)
	var clients []net.Conn
	var got atomic.Int64
	var readers sync.WaitGroup
	defer func() {
		for _, c := range clients {
			_ = c.Close()
		}
		readers.Wait()
	}()
	for range *n {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return fmt.Errorf("connection %d: %w", len(clients)+1, err)
		}
		clients = append(clients, c)
		readers.Add(1)
		go func() {
			defer readers.Done()
			buf := make([]byte, 4096)
			for {
				k, err := c.Read(buf)
				got.Add(int64(k))
				if err != nil {
					return
				}
			}
		}()
		s, err := ln.Accept()
		if err != nil {
			return err
		}
		defer s.Close()
		rc, err := s.(*net.TCPConn).SyscallConn()
		if err != nil {
			return err
		}
		servers = append(servers, rc)
	}

	frame := make([]byte, *size)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0 := threadCPU()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	defer cancel()
	tick := time.NewTicker(time.Duration(float64(time.Second) / *rate))
	defer tick.Stop()
	writes := 0
	for ctx.Err() == nil {
		for _, rc := range servers {
			var werr error
			err := rc.Write(func(fd uintptr) bool {
				_, werr = syscall.Write(int(fd), frame)
				return true
			})
			if err == nil {
				err = werr
			}
			if err != nil {
				return fmt.Errorf("write: %w", err)
			}
			writes++
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
		}
	}
	cpu := threadCPU().sub(cpu0)
	secs := time.Since(start).Seconds()
	want := int64(writes) * int64(*size)
	for deadline := time.Now().Add(10 * time.Second); got.Load() < want && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Printf("floor: %d writes of %d bytes to %d connections from one loop in %.1f s: %.1f µs CPU per write (the writing thread, user %.1f%%); %d of %d bytes read\n",
		writes, *size, *n, secs, cpu.total*1e6/float64(writes), 100*cpu.user/cpu.total, got.Load(), want)
	return nil
}

type cpuTimes struct{ user, total float64 }

func (a cpuTimes) sub(b cpuTimes) cpuTimes { return cpuTimes{a.user - b.user, a.total - b.total} }

// threadCPU is this thread's CPU time (RUSAGE_THREAD).
func threadCPU() cpuTimes {
	var ru syscall.Rusage
	const rusageThread = 1
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return cpuTimes{}
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return cpuTimes{tv(ru.Utime), tv(ru.Utime) + tv(ru.Stime)}
}
