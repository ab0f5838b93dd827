package client

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if n := os.Getenv(benchServerEnv); n != "" {
		os.Exit(serveBench(n))
	}
	goleak.VerifyTestMain(m)
}
