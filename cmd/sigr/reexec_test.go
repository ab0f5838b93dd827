package main

import (
	"os"
	"testing"
)

// runMainEnv makes the test binary run sigr itself: `sigr bench
// --emulator` starts os.Executable() as its emulator, which under go test
// is this binary.
const runMainEnv = "SIGR_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}
