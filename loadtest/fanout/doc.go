// Command fanout measures the emulator's fan-out on this machine: how many
// idle WebSocket connections it holds and what each costs it in memory,
// and the delivery latency of broadcasts (one per second by default) to
// 1 000 and 5 000 connections, with the emulator's CPU time and
// allocations per delivery. The emulator runs in its own process (`fanout
// serve`), so its memory, CPU time and allocations are its own; the
// connections come from another (`fanout run`). interop/fanout-bench.sh
// drives both.
//
//	fanout serve                       # prints {"connectionString":…,"statsURL":…}, runs until stdin closes
//	fanout run -cs CS -stats URL -hold 10000 -latency 1000,5000 -duration 20s
//	fanout run -cs CS -stats URL -hold 0 -latency 1000 -rate 200,250,300 -duration 10s
package main
