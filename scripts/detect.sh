#!/usr/bin/env bash
# detect.sh N [faultline run flags...]: runs the test N times and prints how
# often faultline flagged it (exit 1). Use it on configurations that must be
# caught, e.g.
#   scripts/detect.sh 10 --target kv-async
#   scripts/detect.sh 10 --target kv-async-failover --workload list-append --nemesis partition,kill --time-limit 30s
# With EXPECT=text it also counts the runs whose output contains text (an
# anomaly type such as lost-write). It is not part of the test suite: it
# takes minutes.
set -uo pipefail
n=${1:?usage: detect.sh N [faultline run flags...]}
shift
cd "$(dirname "$0")/.."
bin=$(mktemp -d)/faultline
trap 'rm -rf "$(dirname "$bin")"' EXIT
go build -o "$bin" ./cmd/faultline || exit 255
store=${STORE:-$(mktemp -d)}
flagged=0 valid=0 other=0 matched=0
for i in $(seq 1 "$n"); do
	"$bin" run --store "$store" --seed "$i" "$@" >"$store/run-$i.log" 2>&1
	code=$?
	case $code in
	1) flagged=$((flagged + 1)) ;;
	0) valid=$((valid + 1)) ;;
	*) other=$((other + 1)) ;;
	esac
	if [ -n "${EXPECT:-}" ] && grep -q -- "$EXPECT" "$store/run-$i.log"; then
		matched=$((matched + 1))
	fi
	echo "run $i (seed $i): exit $code"
done
echo "flagged $flagged of $n (valid $valid, other $other); runs in $store"
[ -z "${EXPECT:-}" ] || echo "output mentions '$EXPECT' in $matched of $n"
