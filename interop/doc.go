// Package interop checks sigr against the official @microsoft/signalr
// client, run under Node from this directory (package.json pins the
// version, package-lock.json the rest; internal/nodetest installs them on
// first use). Its tests start the emulator on loopback and run the
// emulator-*.mjs and stateful-resume.mjs scripts against it: routing
// through the function app on each transport, JSON and MessagePack clients
// (@microsoft/signalr-protocol-msgpack) side by side on one hub,
// reconnecting, and resuming a stateful connection, asserting on the JSON
// lines the scripts print.
// Without Node they are skipped, except under CI=true, where that fails.
//
// The directory also holds the side-by-side benchmarks behind the
// README's Performance table (bench-all.sh runs them all) and, in
// subpackages, the loopback server of watch-bench.sh (watch-bench-server),
// its bare-reader process (watch-bench-bare) and the fault-injection tests
// (faults). The package has no code outside its tests.
package interop
