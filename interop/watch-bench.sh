#!/usr/bin/env bash
# watch-bench.sh times the whole `sigr watch URL --count N >/dev/null`
# process against the official @microsoft/signalr (10.0.11) client under
# Node receiving the same N chat invocations, one record per WebSocket
# message, from the same loopback server (interop/watch-bench-server, which
# writes every frame pre-encoded in one write so it is never the
# bottleneck). Both run in one invocation of this script, on one machine,
# and it prints both wall times and their ratio.
#
#   bash interop/watch-bench.sh            # N = 200000, best of 3 rounds
#   COUNT=50000 ROUNDS=1 bash interop/watch-bench.sh
#   PROTOCOL=messagepack bash interop/watch-bench.sh   # both sides in MessagePack
#
# sigr writes a JSON line per invocation (to /dev/null); the official
# client's handler only counts, the case most favourable to it.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
count=${COUNT:-200000}
rounds=${ROUNDS:-3}
proto=${PROTOCOL:-json}

if ! command -v node >/dev/null; then
  echo "watch-bench: node is not on PATH; install Node 20+ to run the official client" >&2
  exit 1
fi
if [ ! -f interop/node_modules/@microsoft/signalr-protocol-msgpack/package.json ]; then
  (cd interop && npm ci --no-audit --no-fund --loglevel=error)
fi

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

go build -o "$tmp/sigr" ./cmd/sigr
go build -o "$tmp/server" ./interop/watch-bench-server

# The server runs until its standard input (fd 3 here) closes.
mkfifo "$tmp/in"
"$tmp/server" -count "$count" <"$tmp/in" >"$tmp/server.out" &
server_pid=$!
exec 3>"$tmp/in"
for _ in $(seq 100); do
  [ -s "$tmp/server.out" ] && break
  sleep 0.05
done
url=$(head -n1 "$tmp/server.out")
if [ -z "$url" ]; then
  echo "watch-bench: the server did not start" >&2
  exit 1
fi

now_ms() { date +%s%3N; }

best_sigr=
best_node=
for round in $(seq "$rounds"); do
  t0=$(now_ms)
  "$tmp/sigr" watch "$url" --count "$count" --protocol "$proto" >/dev/null
  t1=$(now_ms)
  node interop/watch-bench.mjs "$url" "$count" "$proto"
  t2=$(now_ms)
  s=$((t1 - t0))
  n=$((t2 - t1))
  echo "round $round: sigr watch ${s} ms, official client ${n} ms"
  if [ -z "$best_sigr" ] || [ "$s" -lt "$best_sigr" ]; then best_sigr=$s; fi
  if [ -z "$best_node" ] || [ "$n" -lt "$best_node" ]; then best_node=$n; fi
done

awk -v n="$count" -v p="$proto" -v s="$best_sigr" -v o="$best_node" -v nv="$(node --version)" 'BEGIN {
  printf "messages:        %d chat invocations (%s), one per WebSocket message\n", n, p
  printf "sigr watch:      %6d ms wall (whole process, JSON lines to /dev/null)  %9.0f msgs/s\n", s, n / (s / 1000)
  printf "official client: %6d ms wall (whole process, Node %s)  %9.0f msgs/s\n", o, nv, n / (o / 1000)
  printf "ratio:           %.2fx (official / sigr; goal >= 3x)\n", o / s
}'
