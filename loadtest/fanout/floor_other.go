//go:build !linux

package main

import "errors"

// floor needs the CPU time of one thread, which only Linux gives here.
func floor([]string) error {
	return errors.New("floor runs on Linux only (it reads one thread's CPU time)")
}
