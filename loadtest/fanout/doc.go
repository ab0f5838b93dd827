// Command fanout measures the emulator's fan-out on this machine: how many
// idle WebSocket connections it holds and what each costs it in memory,
// and the delivery latency of one broadcast per second to 1 000 and 5 000
// connections. The emulator runs in its own process (`fanout serve`), so
// its memory is its own; the connections come from another (`fanout run`).
// interop/fanout-bench.sh drives both.
//
//	fanout serve                       # prints {"connectionString":…,"statsURL":…}, runs until stdin closes
//	fanout run -cs CS -stats URL -hold 10000 -latency 1000,5000 -duration 20s
package main
