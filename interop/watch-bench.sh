#!/usr/bin/env bash
# watch-bench.sh times three whole processes receiving the same N chat
# invocations, one record per WebSocket message, from the same loopback
# server (interop/watch-bench-server, which writes the frames pre-encoded
# in large writes so it is never the bottleneck):
#   - `sigr watch URL --count N >/dev/null`;
#   - the floor, interop/watch-bench-bare: a bare coder/websocket reader
#     that negotiates, handshakes, reads every message and splits it into
#     records, and decodes and writes nothing;
#   - the official @microsoft/signalr (10.0.11) client under Node.
# Each round runs the three in turn; it prints each one's wall time and CPU
# time (user + system, from the kernel's accounting of the child), then
# the min/median/max over the rounds and the ratios.
#
#   bash interop/watch-bench.sh            # N = 200000, 3 rounds
#   COUNT=50000 ROUNDS=1 bash interop/watch-bench.sh
#   PROTOCOL=messagepack bash interop/watch-bench.sh   # all in MessagePack
#   SIGR=/path/to/sigr bash interop/watch-bench.sh     # another build of sigr
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

sigr=${SIGR:-$tmp/sigr}
if [ -z "${SIGR:-}" ]; then
  go build -o "$tmp/sigr" ./cmd/sigr
fi
go build -o "$tmp/server" ./interop/watch-bench-server
go build -o "$tmp/bare" ./interop/watch-bench-bare

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

# timed NAME CMD...: runs CMD with its standard output to /dev/null and
# appends "NAME wall_ms cpu_ms" to $tmp/times (bash's time keyword: wall,
# and the child's user and system CPU time).
timed() {
  local name=$1 t
  shift
  t=$( { TIMEFORMAT='%3R %3U %3S'; time "$@" >/dev/null 2>"$tmp/err"; } 2>&1 ) || {
    cat "$tmp/err" >&2
    echo "watch-bench: $name failed" >&2
    exit 1
  }
  cat "$tmp/err" >&2
  awk -v n="$name" -v t="$t" 'BEGIN { split(t, f, " "); printf "%s %d %d\n", n, f[1] * 1000 + 0.5, (f[2] + f[3]) * 1000 + 0.5 }' >>"$tmp/times"
}

: >"$tmp/times"
for round in $(seq "$rounds"); do
  timed bare "$tmp/bare" -count "$count" -protocol "$proto" "$url"
  timed sigr "$sigr" watch "$url" --count "$count" --protocol "$proto"
  timed node node interop/watch-bench.mjs "$url" "$count" "$proto"
  tail -n 3 "$tmp/times" | awk -v r="$round" '{ w[$1] = $2; c[$1] = $3 } END {
    printf "round %d: sigr watch %d ms (CPU %d ms), bare reader %d ms (CPU %d ms), official client %d ms (CPU %d ms)\n", r, w["sigr"], c["sigr"], w["bare"], c["bare"], w["node"], c["node"]
  }'
done

awk -v n="$count" -v p="$proto" -v nv="$(node --version)" '
function sort(a, k,   i, j, t) { for (i = 2; i <= k; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t } }
# mmm NAME COLUMN: "min/median/max" of a column over the rounds.
function mmm(name, col,   i, k, a) {
  k = 0
  for (i = 1; i <= rows; i++) if (who[i] == name) a[++k] = v[i, col]
  sort(a, k)
  med[name, col] = a[int((k + 1) / 2)]
  return sprintf("%d/%d/%d", a[1], a[int((k + 1) / 2)], a[k])
}
# ratio A B COLUMN: min/median/max over the rounds of B over A.
function ratio(x, y, col,   i, k, a) {
  k = 0
  for (i = 1; i <= rounds; i++) if (r[i, x, col] > 0) a[++k] = r[i, y, col] / r[i, x, col]
  sort(a, k)
  return sprintf("%.2f/%.2f/%.2f", a[1], a[int((k + 1) / 2)], a[k])
}
{ rows++; who[rows] = $1; v[rows, 2] = $2; v[rows, 3] = $3; rounds = int((rows + 2) / 3); r[rounds, $1, 2] = $2; r[rounds, $1, 3] = $3 }
END {
  printf "messages:        %d chat invocations (%s), one per WebSocket message; min/median/max of %d rounds\n", n, p, rounds
  ws = mmm("sigr", 2); cs = mmm("sigr", 3)
  wb = mmm("bare", 2); cb = mmm("bare", 3)
  wo = mmm("node", 2); co = mmm("node", 3)
  printf "bare reader:     %s ms wall, CPU %s ms  %9.0f msgs/s\n", wb, cb, n / (med["bare", 2] / 1000)
  printf "official client: %s ms wall, CPU %s ms (Node %s)  %9.0f msgs/s\n", wo, co, nv, n / (med["node", 2] / 1000)
  printf "sigr watch:      %s ms wall, CPU %s ms (JSON lines to /dev/null)  %9.0f msgs/s\n", ws, cs, n / (med["sigr", 2] / 1000)
  printf "of the floor:    %s (bare reader wall / sigr watch wall, per round; goal >= 0.85)\n", ratio("sigr", "bare", 2)
  printf "CPU:             %s (sigr watch CPU / bare reader CPU, per round)\n", ratio("bare", "sigr", 3)
  printf "ratio:           %.2fx (official / sigr, median wall; goal >= 3x)\n", med["node", 2] / med["sigr", 2]
}' "$tmp/times"
