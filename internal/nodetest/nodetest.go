package nodetest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

var (
	installOnce sync.Once
	installErr  error
)

// Require returns the absolute path of the interop directory, with its Node
// packages installed. A newcomer's plain `go test ./...` installs them with
// `npm ci` on first use. Without Node the test is skipped, except under
// CI=true, where a missing Node is a failure: interop must never be skipped
// silently in CI.
func Require(t testing.TB) string {
	t.Helper()
	dir := Dir()
	node, err := exec.LookPath("node")
	if err != nil {
		missing(t, "node is not on PATH")
	}
	_ = node
	if !installed(dir) {
		installOnce.Do(func() {
			npm, err := exec.LookPath("npm")
			if err != nil {
				installErr = err
				return
			}
			cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			if err != nil {
				installErr = &installError{err: err, out: string(out)}
			}
		})
		if installErr != nil {
			missing(t, "installing interop Node packages failed: "+installErr.Error())
		}
	}
	return dir
}

// Dir returns the absolute path of the repository's interop directory.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "interop")
}

func missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("interop test cannot run under CI=true: %s", why)
	}
	t.Skipf("skipping interop test: %s (install Node 20+ and npm)", why)
}

type installError struct {
	err error
	out string
}

func (e *installError) Error() string { return e.err.Error() + ": " + e.out }

// installed reports whether every package of interop/package.json is in
// node_modules, so that a checkout that gained a package installs again.
func installed(dir string) bool {
	for _, pkg := range []string{"signalr", "signalr-protocol-msgpack"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", "@microsoft", pkg, "package.json")); err != nil {
			return false
		}
	}
	return true
}
