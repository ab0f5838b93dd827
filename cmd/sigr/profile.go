package main

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// profileEnv names a file for a CPU profile of the whole process. It is
// for measuring the terminal interface where its costs show: in a real
// terminal under a real flood (interop/tui-flood-bench.sh), which no
// in-process benchmark reproduces.
const profileEnv = "SIGR_CPUPROFILE"

// startProfile starts the CPU profile when profileEnv is set and returns
// what stops it and writes the file.
func startProfile() (stop func()) {
	path := os.Getenv(profileEnv)
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "sigr: %s: %v\n", profileEnv, err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
