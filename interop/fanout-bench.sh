#!/usr/bin/env bash
# fanout-bench.sh measures the emulator's fan-out on this machine, the
# emulator in one process and the connections in another (both built from
# loadtest/fanout), on loopback:
#   1. the most idle WebSocket connections it holds (HOLD, default 10000)
#      and the memory each costs it (process RSS and Go heap, after a GC,
#      before and while they are open);
#   2. broadcast delivery latency p50/p99/max with RATE broadcasts per
#      second (default 1; a list runs each in turn) through the REST API to
#      LATENCY connections (default 1000 and 5000), for DURATION each
#      (default 20s), and what the emulator's process spent per delivery:
#      CPU time (getrusage) and heap allocations (runtime.MemStats), sampled
#      through its GET /_sigr/v1/process before the first send and after
#      the last delivery.
#
#   3. the floor of a delivery on this machine: one frame-sized write(2) to
#      each of the same number of loopback connections from one loop
#      (fanout floor), for DURATION, unless FLOOR=0.
#
#   bash interop/fanout-bench.sh
#   HOLD=2000 LATENCY=500 DURATION=5s bash interop/fanout-bench.sh
#   HOLD=0 LATENCY=1000 RATE=200,250,300 DURATION=10s bash interop/fanout-bench.sh
#
# Every connection is one sigr client (package client), one user each.
# The whole run is bounded by TIMEOUT (default 600 s).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
hold=${HOLD:-10000}
latency=${LATENCY:-1000,5000}
rate=${RATE:-1}
duration=${DURATION:-20s}
limit=${TIMEOUT:-600}

# Each side needs one descriptor per connection, plus some; the floor,
# which holds both ends of its connections, two.
most=$hold
for n in ${latency//,/ }; do
  if [ "${FLOOR:-1}" != 0 ]; then n=$((2 * n)); fi
  if [ "$n" -gt "$most" ]; then most=$n; fi
done
want=$((most + 1024))
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$want" ]; then
  echo "fanout-bench: the hard limit on open files is $hard, below the $want that $most connections need; lower HOLD or raise it (ulimit -Hn, /etc/security/limits.conf)" >&2
  exit 1
fi
ulimit -n "$want"

tmp=$(mktemp -d)
server_pid=
cleanup() {
  exec 3>&- 2>/dev/null || true
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/fanout" ./loadtest/fanout

# The server runs until its standard input (fd 3 here) closes.
mkfifo "$tmp/in"
"$tmp/fanout" serve <"$tmp/in" >"$tmp/server.out" &
server_pid=$!
exec 3>"$tmp/in"
for _ in $(seq 100); do
  [ -s "$tmp/server.out" ] && break
  sleep 0.05
done
info=$(head -n1 "$tmp/server.out")
field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" <<<"$info"; }
cs=$(field connectionString)
stats=$(field statsURL)
if [ -z "$cs" ] || [ -z "$stats" ]; then
  echo "fanout-bench: the server did not start" >&2
  exit 1
fi

echo "machine: $(nproc) cores, $(free -h | awk '/^Mem:/ {print $2}') RAM, $(go version | awk '{print $3}'); open files limit $(ulimit -n)"
timeout "$limit" "$tmp/fanout" run -cs "$cs" -stats "$stats" -hold "$hold" -latency "$latency" -rate "$rate" -duration "$duration" ${FANOUT_ARGS:-}
if [ "${FLOOR:-1}" != 0 ]; then
  for n in ${latency//,/ }; do
    timeout "$limit" "$tmp/fanout" floor -n "$n" -duration "$duration"
  done
fi
