#!/usr/bin/env bash
# bench-parse.sh compares sigr's record decoder with the official
# @microsoft/signalr (10.0.11) JsonHubProtocol.parseMessages on the same
# buffer, 100 copies of a 130-byte chat invocation each ended by 0x1E, in
# one run on one machine, and prints both rates and their ratio; then the
# same for Go's encoding/json decoding that buffer into a struct of the
# message's fields (BenchmarkDecode/encoding-json), a second reference; and
# the MessagePack decoder (BenchmarkDecodeMessagePack) against the official
# @microsoft/signalr-protocol-msgpack parser on 100 copies of the same
# invocation in MessagePack.
#
#   bash interop/bench-parse.sh
#
# Both sides are measured the same way: several timed rounds, the best one
# kept, so that a busy machine disturbs the comparison as little as it can.
# COUNT (default 5) and BENCHTIME (default 1s) are passed to `go test
# -count -benchtime`; ROUNDS (default 5) and ROUND_MS (default 1000) tune the
# Node side.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if ! command -v node >/dev/null; then
  echo "bench-parse: node is not on PATH; install Node 20+ to run the official parser" >&2
  exit 1
fi
if [ ! -f interop/node_modules/@microsoft/signalr-protocol-msgpack/package.json ]; then
  (cd interop && npm ci --no-audit --no-fund --loglevel=error)
fi

go_out=$(go test ./protocol -run '^$' -bench '^BenchmarkDecode(Owned|MessagePack)?$' -benchmem -benchtime "${BENCHTIME:-1s}" -count "${COUNT:-5}")
node_out=$(ROUNDS="${ROUNDS:-5}" node interop/parse-bench.mjs; ROUNDS="${ROUNDS:-5}" node interop/parse-bench.mjs msgpack)

echo "$go_out" | grep '^Benchmark'
echo "$node_out"
echo
echo "best Go run vs best Node round (same buffer, same machine):"

official=$(awk '$1 == "official" && $2 == "msgs/s" { print $3 }' <<<"$node_out")
# best (highest) msgs/s of one Go benchmark over its -count runs
best_rate() {
  awk -v name="Benchmark$1-" '
    index($1, name) == 1 { for (i = 2; i <= NF; i++) if ($i == "msgs/s" && $(i - 1) + 0 > best) best = $(i - 1) + 0 }
    END { if (best > 0) printf "%.0f\n", best }' <<<"$go_out"
}

# BenchmarkDecode copies every record (a receiver whose read buffer is
# reused); BenchmarkDecodeOwned splits records in place in a frame the
# transport handed over (what sigr's WebSocket receive path does).
for mode in Decode/lenient Decode/strict DecodeOwned/lenient DecodeOwned/strict; do
  rate=$(best_rate "$mode")
  if [ -z "$rate" ] || [ -z "$official" ]; then
    echo "bench-parse: could not read the rates" >&2
    exit 1
  fi
  awk -v mode="$mode" -v sigr="$rate" -v off="$official" 'BEGIN {
    printf "sigr %-14s %10.0f msgs/s  vs  official %10.0f msgs/s  ratio %.2fx\n", mode, sigr, off, sigr / off }'
done

echo
echo "MessagePack: best Go run vs best Node round (same 100 records, same machine):"
official_mp=$(awk '$1 == "official-msgpack" && $2 == "msgs/s" { print $3 }' <<<"$node_out")
for mode in DecodeMessagePack/lenient DecodeMessagePack/strict; do
  rate=$(best_rate "$mode")
  if [ -z "$rate" ] || [ -z "$official_mp" ]; then
    echo "bench-parse: could not read the MessagePack rates" >&2
    exit 1
  fi
  awk -v mode="$mode" -v sigr="$rate" -v off="$official_mp" 'BEGIN {
    printf "sigr %-24s %10.0f msgs/s  vs  official %10.0f msgs/s  ratio %.2fx (goal >= 3x)\n", mode, sigr, off, sigr / off }'
done

echo
echo "best Go runs, sigr vs encoding/json (same buffer, same process):"
stdlib=$(best_rate Decode/encoding-json)
if [ -z "$stdlib" ]; then
  echo "bench-parse: could not read the encoding/json rate" >&2
  exit 1
fi
for mode in Decode/lenient Decode/strict; do
  awk -v mode="$mode" -v sigr="$(best_rate "$mode")" -v std="$stdlib" 'BEGIN {
    printf "sigr %-14s %10.0f msgs/s  vs  encoding/json %10.0f msgs/s  ratio %.2fx\n", mode, sigr, std, sigr / std }'
done
