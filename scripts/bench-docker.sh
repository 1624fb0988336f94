#!/bin/sh
# bench-docker.sh: how long the Docker runtime takes to build its node image
# (cold: the image removed first; warm: already there) and to start a 5-node
# cluster until every node is healthy. It runs the benchmarks in
# harness/docker against a static faultline binary built here, and prints
# one line per figure.
#
# Usage: scripts/bench-docker.sh [count]   (count: iterations per figure, default 3)
# Environment: DOCKER_HOST picks the engine; FAULTLINE_SYSTEM the target
# started by the cluster benchmark (default kv when ./cmd/faultline builds and
# serves `netfault`, otherwise the tests' stand-in).
set -eu
count=${1:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

cd "$root"
if CGO_ENABLED=0 go build -o "$tmp/faultline" ./cmd/faultline 2>"$tmp/build.err" \
	&& "$tmp/faultline" netfault --help >/dev/null 2>&1; then
	export FAULTLINE_BINARY="$tmp/faultline"
	export FAULTLINE_SYSTEM="${FAULTLINE_SYSTEM:-kv}"
	echo "node binary: faultline ($(du -h "$tmp/faultline" | cut -f1)), system ${FAULTLINE_SYSTEM}"
else
	echo "node binary: the tests' stand-in (./cmd/faultline does not build or has no 'netfault' command yet)"
fi

go test -run '^$' -bench 'ImageBuildCold|ImageBuildWarm|Start5Nodes' -benchtime "${count}x" \
	-timeout 20m ./harness/docker/ >"$tmp/bench.out" 2>&1 || { cat "$tmp/bench.out"; exit 1; }

awk '
/^Benchmark/ {
	name = $1; sub(/-[0-9]+$/, "", name); sub(/^Benchmark/, "", name)
	for (i = 1; i <= NF; i++) if ($(i+1) == "ns/op") ns = $i
	label["ImageBuildCold"] = "image build, cold"
	label["ImageBuildWarm"] = "image build, warm (reused)"
	label["Start5Nodes"] = "start 5-node cluster, healthy"
	printf "%-32s %10.3f s  (mean of %d)\n", label[name] ":", ns / 1e9, $2
}' "$tmp/bench.out"
