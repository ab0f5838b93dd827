package emulator

import (
	"net/http"

	"github.com/sigr-dev/sigr/internal/procstat"
)

// serveProcess answers GET /_sigr/v1/process: what this process has spent
// so far, so that a load generator in another process (sigr bench, the
// fan-out benchmark) can report the emulator's own CPU and allocations
// per delivery rather than its own.
func (s *Service) serveProcess(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, procstat.Read())
}
