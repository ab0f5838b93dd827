#!/usr/bin/env bash
# bench-all.sh runs the four side-by-side measurements once each, on this
# machine, and prints one table:
#   1. JSON decoding: sigr's protocol package vs the official JsonHubProtocol
#      and vs Go's encoding/json
#      (interop/bench-parse.sh);
#   2. client receive: `sigr watch` vs the official JS client on the same
#      loopback server (interop/watch-bench.sh), and the library's receive
#      path vs a bare coder/websocket reader (client BenchmarkReceive*);
#   3. emulator fan-out: idle connections held, memory per connection, and
#      broadcast latency at 1 000 and 5 000 connections
#      (interop/fanout-bench.sh);
#   4. TUI: one frame during a flood, drawn through Bubble Tea's terminal
#      renderer, and the ingest rate it sustains (tui BenchmarkFrameRendered,
#      BenchmarkIngest20k); the TUI beside `sigr watch` under a flood of
#      100 000 messages at 25 000 a second on a pseudo-terminal
#      (interop/tui-flood-bench.sh).
#
#   bash interop/bench-all.sh
#
# The full output of each part goes to $OUT (default a temporary directory,
# printed at the end) so the table can be checked against it. Knobs of the
# parts pass through: COUNT/ROUNDS (watch-bench), HOLD/LATENCY/DURATION
# (fanout-bench).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=${OUT:-$(mktemp -d)}
mkdir -p "$out"

step() { echo "== $*" >&2; }

step "1/4 JSON and MessagePack decoding (bench-parse.sh)"
bash interop/bench-parse.sh >"$out/parse.txt" 2>&1
step "2/4 client receive (watch-bench.sh, client benchmarks)"
COUNT=${WATCH_COUNT:-200000} bash interop/watch-bench.sh >"$out/watch.txt" 2>&1
COUNT=${WATCH_COUNT:-200000} PROTOCOL=messagepack bash interop/watch-bench.sh >"$out/watch-msgpack.txt" 2>&1
go test ./client -run '^$' -bench '^BenchmarkReceive(BareWebSocket|BareHandoff)?$' -benchtime 200000x -count 3 >"$out/receive.txt" 2>&1
step "3/4 emulator fan-out (fanout-bench.sh)"
bash interop/fanout-bench.sh >"$out/fanout.txt" 2>&1
step "4/4 TUI frame and ingest (tui benchmarks)"
go test ./tui -run '^$' -bench '^Benchmark(FrameRendered|Ingest20k)$' -benchmem -count 3 >"$out/tui.txt" 2>&1
ROUNDS=${TUI_ROUNDS:-1} RATES=25000 bash interop/tui-flood-bench.sh >"$out/tui-flood.txt" 2>&1

# best (highest) msgs/s of a Go benchmark over its -count runs
best_rate() { awk -v name="$1" 'index($1, name) == 1 && ($1 == name || substr($1, length(name) + 1, 1) == "-") { for (i = 2; i <= NF; i++) if ($i == "msgs/s" && $(i - 1) + 0 > b) b = $(i - 1) + 0 } END { printf "%.0f", b }' "$2"; }
# best (lowest) ns/op
best_ns() { awk -v name="$1" 'index($1, name) == 1 && ($1 == name || substr($1, length(name) + 1, 1) == "-") { for (i = 2; i <= NF; i++) if ($i == "ns/op" && (b == "" || $(i - 1) + 0 < b)) b = $(i - 1) + 0 } END { printf "%.0f", b }' "$2"; }

# Decode copies each record (a receiver whose read buffer is reused);
# DecodeOwned splits records in place in a frame handed over by the
# transport. Both in lenient mode, the default.
read -r p_sigr p_off p_ratio <<<"$(awk '$1 == "sigr" && $2 == "Decode/lenient" && $6 == "official" { print $3, $7, $NF }' "$out/parse.txt")"
read -r p_std p_std_ratio <<<"$(awk '$1 == "sigr" && $2 == "Decode/lenient" && $6 == "encoding/json" { print $7, $NF }' "$out/parse.txt")"
read -r o_sigr o_off o_ratio <<<"$(awk '$1 == "sigr" && $2 == "DecodeOwned/lenient" && $6 == "official" { print $3, $7, $NF }' "$out/parse.txt")"
w_sigr=$(awk '/^sigr watch:/ { print $(NF - 1) }' "$out/watch.txt")
w_off=$(awk '/^official client:/ { print $(NF - 1) }' "$out/watch.txt")
w_ratio=$(awk '/^ratio:/ { print $2 }' "$out/watch.txt")
w_bare=$(awk '/^bare reader:/ { print $(NF - 1) }' "$out/watch.txt")
w_floor=$(awk '/^of the floor:/ { split($4, r, "/"); print r[2] }' "$out/watch.txt")
w_cpu=$(awk '/^CPU:/ { split($2, r, "/"); print r[2] }' "$out/watch.txt")
r_lib=$(best_rate BenchmarkReceive "$out/receive.txt")
r_bare=$(best_rate BenchmarkReceiveBareWebSocket "$out/receive.txt")
r_hand=$(best_rate BenchmarkReceiveBareHandoff "$out/receive.txt")
held=$(sed -n 's/^idle connections: \([0-9]*\) of \([0-9]*\) held.*/\1 of \2/p' "$out/fanout.txt")
perconn=$(sed -n 's/.*: \([0-9.]*\) KB per connection (heap \([0-9.]*\) KB.*/\1 KB RSS, \2 KB heap/p' "$out/fanout.txt")
lat() { sed -n "s/^broadcast 1\/s asked.* to $1 connections .*p50 \([0-9.]*\) ms.*p99 \([0-9.]*\) ms max \([0-9.]*\) ms; \(.*\) delivered, \([0-9]*\) lost.*/p50 \1 ms, p99 \2 ms, max \3 ms (\5 lost)/p" "$out/fanout.txt"; }
# cost N: the emulator's CPU and allocations per delivery in the latency run to N.
cost() { awk -v n="$1" '/^broadcast / { hit = index($0, " to " n " connections ") > 0; next } hit && /^  emulator process:/ { sub(/^  emulator process: /, ""); sub(/ \(.*/, ""); print; exit }' "$out/fanout.txt"; }
# floor N: CPU per write(2) from one loop to N connections.
floor_us() { awk -v n="$1" '/^floor:/ && index($0, " to " n " connections ") { for (i = 1; i <= NF; i++) if ($i == "µs") { print $(i - 1); exit } }' "$out/fanout.txt"; }
frame_ns=$(best_ns BenchmarkFrameRendered "$out/tui.txt")
ingest_ns=$(best_ns BenchmarkIngest20k "$out/tui.txt")
per_frame=$(awk '$1 ~ /^BenchmarkIngest20k/ { for (i = 2; i <= NF; i++) if ($i == "msgs/batch") { print $(i - 1) + 0; exit } }' "$out/tui.txt")
# flood FIELD SIDE: the median of a figure of the flood's summary line.
flood() { awk -v f="$1" -v side="$2" '$1 == "after" && $3 == side { for (i = 4; i <= NF; i++) { split($i, kv, "="); if (kv[1] == f) { split(kv[2], v, "/"); print v[2] } } }' "$out/tui-flood.txt"; }

awk -v ps="$p_sigr" -v po="$p_off" -v pr="$p_ratio" -v pj="$p_std" -v pjr="$p_std_ratio" -v qs="$o_sigr" -v qo="$o_off" -v qr="$o_ratio" \
  -v ws="$w_sigr" -v wo="$w_off" -v wr="$w_ratio" \
  -v wb="$w_bare" -v wf="$w_floor" -v wc="$w_cpu" \
  -v rl="$r_lib" -v rb="$r_bare" -v rh="$r_hand" \
  -v held="$held" -v per="$perconn" -v l1="$(lat 1000)" -v l5="$(lat 5000)" -v c5="$(cost 5000)" -v f5="$(floor_us 5000)" \
  -v fns="$frame_ns" -v ins="$ingest_ns" -v pf="${per_frame:-667}" \
  -v tc="$(flood cores tui)" -v fw="$(flood cores watch)" -v tl="$(flood last_ms tui)" -v wl="$(flood last_ms watch)" -v kp="$(flood key_p99_ms tui)" 'BEGIN {
  printf "| # | measurement | sigr | reference | ratio |\n"
  printf "|---|---|---|---|---|\n"
  printf "| 1a | JSON decoding, 130-byte invocations, a copy per record | %s msgs/s | official JsonHubProtocol %s msgs/s; encoding/json %s msgs/s | %s; %s |\n", ps, po, pj, pr, pjr
  printf "| 1b | JSON decoding, records split in place in the received frame | %s msgs/s | official JsonHubProtocol %s msgs/s | %s |\n", qs, qo, qr
  printf "| 2a | client receive, whole `watch` process vs official JS client | %s msgs/s | official client %s msgs/s | %s faster |\n", ws, wo, wr
  if (rb > 0) printf "| 2b | client library receive vs bare coder/websocket reader | %s msgs/s | bare reader %s msgs/s; handing each record to a goroutine %s msgs/s | %.2fx of the floor |\n", rl, rb, rh, rl / rb
  printf "| 2d | client receive, whole `watch` process vs a bare-reader process (median of the rounds) | %s msgs/s, %sx its CPU | bare reader %s msgs/s | %s of the floor |\n", ws, wc, wb, wf
  printf "| 3a | emulator: idle WebSocket connections held (goal 10 000) | %s | | |\n", held
  printf "| 3b | emulator: memory per idle connection | %s | | |\n", per
  printf "| 3c | emulator: broadcast latency, 1/s to 1 000 connections | %s | | |\n", l1
  printf "| 3d | emulator: broadcast latency, 1/s to 5 000 connections | %s | | |\n", l5
  if (f5 > 0) printf "| 3e | emulator: its own CPU and allocations per delivery, 1/s to 5 000 connections | %s | floor: one write(2) per connection from one loop, %s µs | %.2fx the floor |\n", c5, f5, (c5 + 0) / f5
  printf "| 4a | TUI: one frame during a flood, 200x60, full ring, through the terminal renderer | %.2f ms | 33 ms between frames | %.0fx headroom |\n", fns / 1e6, 33.3e6 / fns
  printf "| 4b | TUI: ingest, %d msgs + 3 frames (2 keys) per 33 ms | %.2f ms | sustains %.0f msgs/s | |\n", pf, ins / 1e6, pf / (ins / 1e9)
  if (tc != "") printf "| 4c | TUI under 100 000 msgs at 25 000/s vs `sigr watch`: CPU | %s cores | watch %s cores | +%.2f core |\n", tc, fw, tc - fw
  if (tl != "") printf "| 4d | the same: time to the last message on screen; key to screen p99 | %s ms; %s ms | watch %s ms | %.2fx |\n", tl, kp, wl, tl / wl
}'
echo
echo "raw outputs: $out"
