#!/usr/bin/env bash
# kvthroughput.sh [PAIRS] [faultline run flags...]: unthrottled throughput
# of the kv target, this tree against another revision, measured side by
# side: PAIRS (default 3) pairs of `faultline run --rate 0 --time-limit 10s`,
# old then new, alternating, each on a fresh cluster with the same seed.
# OLD names the revision to compare with (default main), e.g.
#   OLD=7531c09 scripts/kvthroughput.sh 5
#   OLD=7531c09 scripts/kvthroughput.sh 3 --target kv-async
# Each run prints its completed operations per second and the CPU its
# nodes used per operation (user + system, read from /proc just before the
# main phase ends: a loaded machine caps throughput at the CPU share it
# leaves, so CPU per operation is the steadier figure). The new binary's
# runs also print the fsyncs per acknowledged write, from the last "wal:"
# line each node logs (records written and fsyncs made): at the primary,
# and over all nodes. The old binary does not count them; it fsyncs once
# per write at the primary, by design. The machine is shared: read the
# ratio of the medians, not the absolute figures. Not part of the suite.
set -euo pipefail
pairs=${1:-3}
shift || true
old=${OLD:-main}
limit=10
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/new" ./cmd/faultline
mkdir "$tmp/src"
git archive "$old" | tar -x -C "$tmp/src"
(cd "$tmp/src" && go build -o "$tmp/old" ./cmd/faultline)

# run BIN LABEL: one run; prints "LABEL ops/s [fsyncs...]" and records ops/s.
run() {
	local bin=$1 label=$2 store=$tmp/store-$2-$3
	"$tmp/$bin" run --rate 0 --time-limit ${limit}s --seed 1 --store "$store" "${@:4}" >"$tmp/out" 2>&1 &
	local pid=$!
	sleep "$limit.2"
	local ticks=0 p
	for p in $(pgrep -f "^$tmp/$bin node "); do
		ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	wait "$pid" || true
	local out
	out=$(cat "$tmp/out")
	local ops
	ops=$(sed -n 's/^ops: \([0-9]*\) ok, \([0-9]*\) fail, \([0-9]*\) info.*/\1 \2 \3/p' <<<"$out" | awk '{print $1+$2+$3}')
	if [ -z "$ops" ]; then
		echo "$label: the run failed:" >&2
		tail -5 <<<"$out" >&2
		exit 255
	fi
	local rate=$((ops / limit))
	echo "$rate" >>"$tmp/$label.rates"
	local cpu
	cpu=$(awk -v t="$ticks" -v o="$ops" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.0f", t / hz * 1e6 / o}')
	echo "$cpu" >>"$tmp/$label.cpu"
	local fs=""
	local logs
	logs=$(ls -d "$store"/*/2*/nodes 2>/dev/null | head -1)
	if [ -n "$logs" ] && grep -q "wal:" "$logs"/*.log; then
		fs=$(for f in "$logs"/*.log; do grep "wal:" "$f" | tail -1 | sed "s|^\([^ ]*\) .*wal: \([0-9]*\) records written, \([0-9]*\) fsyncs.*|\1 \2 \3|"; done |
			awk '$1=="n1" {pw=$2; pf=$3} {tf+=$3} END {if (pw>0) printf "  fsyncs per write: %.2f at the primary, %.2f over all nodes", pf/pw, tf/pw}')
	fi
	printf '%-4s %6d ops/s  %4d µs node CPU per op%s\n' "$label" "$rate" "$cpu" "$fs"
}

for i in $(seq 1 "$pairs"); do
	run old old "$i" "$@"
	run new new "$i" "$@"
done
median() { sort -n "$1" | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mo=$(median "$tmp/old.rates") mn=$(median "$tmp/new.rates")
co=$(median "$tmp/old.cpu") cn=$(median "$tmp/new.cpu")
echo "median: old ($old) $mo ops/s, new $mn ops/s, ratio $(awk -v a="$mn" -v b="$mo" 'BEGIN {printf "%.2f", a/b}')"
echo "median node CPU per op: old $co µs, new $cn µs, ratio $(awk -v a="$cn" -v b="$co" 'BEGIN {printf "%.2f", a/b}')"
