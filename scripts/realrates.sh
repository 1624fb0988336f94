#!/usr/bin/env bash
# realrates.sh [N]: runs each expectation of the real systems (etcd, Redis
# Sentinel) N times (default 10), each a fresh cluster and seed, and prints
# how often it was met. The rows are the matrix cells (matrix.yaml,
# matrix-etcd.yaml). It builds faultline with the etcd tag, needs Debian's
# redis-server and redis-sentinel, and takes about a quarter of an hour at
# N=10: it is not part of the test suite. Run it under nice on a shared
# machine:
#   nice -n 10 scripts/realrates.sh 10
# ROWS=redis (or etcd, etcd-serializable...) runs only the rows whose name
# contains it.
set -uo pipefail
n=${1:-10}
cd "$(dirname "$0")/.."
bin=$(mktemp -d)/faultline
trap 'rm -rf "$(dirname "$bin")"' EXIT
go build -tags etcd -o "$bin" ./cmd/faultline || exit 255
store=${STORE:-$(mktemp -d)}

# row NAME WANT-EXIT WANT-TEXT faultline-run-flags...: WANT-TEXT ("" for
# none) must appear in the run's output too.
row() {
	local name=$1 want=$2 text=$3
	shift 3
	case $name in *"${ROWS:-}"*) ;; *) return ;; esac
	local met=0 i code log safe=${name//\//_}
	for i in $(seq 1 "$n"); do
		log="$store/$safe-$i.log"
		"$bin" run --store "$store/$safe" --seed "$((1000 + i))" "$@" >"$log" 2>&1
		code=$?
		if [ "$code" = "$want" ] && { [ -z "$text" ] || grep -q -- "$text" "$log"; }; then
			met=$((met + 1))
		else
			echo "  $name run $i (seed $((1000 + i))): exit $code; see $log"
		fi
	done
	printf '%-58s want exit %s%s  met %d/%d\n' "$name" "$want" "${text:+ and \"$text\"}" "$met" "$n"
}

row redis-sentinel/list-append/partition/clients-partitioned 1 "was acknowledged in op" \
	--target redis-sentinel --workload list-append --concurrency 12 --keys 3 --nemesis partition \
	--nemesis-interval 3s --partition-clients --time-limit 8s
row etcd/register/partition,kill,pause/clients-partitioned 0 "" \
	--target etcd --workload register --nodes 3 --concurrency 6 --keys 3 --nemesis partition,kill,pause \
	--nemesis-interval 1s --partition-clients --time-limit 6s
row etcd/list-append/partition,kill/clients-partitioned 0 "" \
	--target etcd --workload list-append --nodes 3 --concurrency 6 --keys 3 --nemesis partition,kill \
	--nemesis-interval 1s --partition-clients --time-limit 6s
row etcd-serializable/register/partition 1 "nonlinearizable" \
	--target etcd-serializable --target-opt client-timeout=500ms --workload register --nodes 3 --concurrency 12 \
	--keys 2 --rate 500 --nemesis partition --nemesis-interval 1s --time-limit 6s
echo "runs in $store"
