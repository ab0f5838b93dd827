//go:build !linux

package main

import (
	"errors"
	"os"
	"os/exec"
	"time"
)

var errNoPTY = errors.New("tuiflood opens its pseudo-terminal through Linux's /dev/ptmx")

func openPTY(w, h int) (master, tty *os.File, err error) { return nil, nil, errNoPTY }

func onTerminal(cmd *exec.Cmd) {}

func usage(ps *os.ProcessState) (time.Duration, int64) { return ps.UserTime() + ps.SystemTime(), 0 }

func dumpGoroutines(p *os.Process) {}
