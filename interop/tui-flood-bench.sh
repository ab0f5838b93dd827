#!/usr/bin/env bash
# tui-flood-bench.sh measures the terminal interface (`sigr URL`) under a
# flood of COUNT chat invocations, side by side with `sigr watch URL --count
# COUNT >/dev/null` on the same stream from the same loopback server
# (interop/watch-bench-server), in the same round. The TUI runs on a real
# pseudo-terminal of SIZE cells; loadtest/tuiflood replays what it writes
# onto a grid to see when the last message is on screen, and presses ?
# every KEY_EVERY during the flood (the key map opens, then closes) to time
# each key press until the screen shows it.
#
#   bash interop/tui-flood-bench.sh                    # 3 rounds: a burst, 25 000 and 100 000 msgs/s
#   BEFORE=/tmp/sigr-main bash interop/tui-flood-bench.sh   # the same for another binary, interleaved
#   RATES=0 ROUNDS=1 bash interop/tui-flood-bench.sh
#
# RATES lists the server's pace in messages per second: 0 writes all COUNT
# frames at once (the receivers' own limit), a rate makes a flood that
# lasts (COUNT/rate seconds) for the key presses to land in. Per process:
# cpu_ms is user+system time (getrusage of the child), rss_kb its peak,
# last_ms the time from its start to the last message (watch: its exit),
# cores cpu over last; the summary gives min/median/max over the rounds.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
count=${COUNT:-100000}
rounds=${ROUNDS:-3}
rates=${RATES:-0 25000 100000}
size=${SIZE:-200x50}
key_every=${KEY_EVERY:-50ms}

tmp=$(mktemp -d)
pids=()
cleanup() {
  for fd in "${fds[@]:-}"; do [ -n "$fd" ] && eval "exec $fd>&-" 2>/dev/null || true; done
  for p in "${pids[@]:-}"; do
    [ -n "$p" ] || continue
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
fds=()
trap cleanup EXIT

if [ -n "${SIGR:-}" ]; then
  cp "$SIGR" "$tmp/sigr"
else
  go build -o "$tmp/sigr" ./cmd/sigr
fi
go build -o "$tmp/server" ./interop/watch-bench-server
go build -o "$tmp/tuiflood" ./loadtest/tuiflood
bins=("after=$tmp/sigr")
if [ -n "${BEFORE:-}" ]; then
  bins=("before=$BEFORE" "${bins[@]}")
fi

# One server per rate; each runs until its standard input closes.
declare -A urls
fd=3
for rate in $rates; do
  mkfifo "$tmp/in$rate"
  "$tmp/server" -count "$count" -rate "$rate" <"$tmp/in$rate" >"$tmp/server$rate.out" &
  pids+=($!)
  eval "exec $fd>\"$tmp/in$rate\""
  fds+=("$fd")
  fd=$((fd + 1))
  for _ in $(seq 100); do
    [ -s "$tmp/server$rate.out" ] && break
    sleep 0.05
  done
  urls[$rate]=$(head -n1 "$tmp/server$rate.out")
  if [ -z "${urls[$rate]}" ]; then
    echo "tui-flood-bench: the server (rate $rate) did not start" >&2
    exit 1
  fi
done

echo "load before: $(uptime)"
for round in $(seq "$rounds"); do
  for rate in $rates; do
    for b in "${bins[@]}"; do
      name=${b%%=*}
      "$tmp/tuiflood" -sigr "${b#*=}" -url "${urls[$rate]}" -count "$count" -size "$size" \
        -key-every "$key_every" -label "round=$round $name rate=$rate" | tee -a "$tmp/results"
    done
  done
done
echo "load after:  $(uptime)"

# min/median/max of each figure over the rounds, per binary, rate and side.
awk '
function sortv(a, n,   i, j, t) { for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j+1] = a[j]; a[j+1] = t } }
{
  key = $2 " " $3 " " $4
  if (!(key in seen)) { seen[key] = 1; order[++nk] = key }
  for (i = 5; i <= NF; i++) {
    split($i, kv, "=")
    f = key SUBSEP kv[1]
    if (!(f in cnt)) { fields[key] = fields[key] " " kv[1] }
    v[f, ++cnt[f]] = kv[2] + 0
  }
}
END {
  printf "\nmessages: %d, min/median/max over the rounds\n", '"$count"'
  for (k = 1; k <= nk; k++) {
    key = order[k]; line = sprintf("%-28s", key)
    n = split(fields[key], fs, " ")
    for (i = 1; i <= n; i++) {
      f = key SUBSEP fs[i]; m = cnt[f]
      delete a
      for (j = 1; j <= m; j++) a[j] = v[f, j]
      sortv(a, m)
      line = line sprintf(" %s=%g/%g/%g", fs[i], a[1], a[int((m + 1) / 2)], a[m])
    }
    print line
  }
}' "$tmp/results"
