#!/usr/bin/env bash
# startup.sh [N]: what a faultline process costs to start, against the
# smallest program that checks the same history with porcupine alone
# (scripts/porcupinecheck). It times N (default 100) `faultline check`
# processes on a small history (porcupine's test_data/jepsen/etcd_000.log,
# 85 operations), alternating with porcupinecheck on the same log, then
# checks porcupine's whole corpus (103 logs) one process per log with each,
# and all of it in one process with each.
# CPU is user + system time from each process's rusage (scripts/cputime).
# With OLD=<git ref> it also builds and times faultline at that ref, e.g.
#   OLD=main scripts/startup.sh
# It is not part of the test suite. Run it under `nice` on a shared machine
# and read the ratios rather than the absolute figures.
set -euo pipefail
n=${1:-100}
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/faultline" ./cmd/faultline
go build -o "$tmp/porcupinecheck" ./scripts/porcupinecheck
go build -o "$tmp/cputime" ./scripts/cputime
porc=$(go list -m -f '{{.Dir}}' github.com/anishathalye/porcupine)
[ -d "$porc/test_data/jepsen" ] || { echo "startup.sh: porcupine's corpus is not in the module cache: run go mod download github.com/anishathalye/porcupine" >&2; exit 254; }
small=$porc/test_data/jepsen/etcd_000.log

names=(-name faultline) cmds=(-- "$tmp/faultline" check)
if [ -n "${OLD:-}" ]; then
	mkdir "$tmp/old"
	git archive "$OLD" | tar -x -C "$tmp/old"
	(cd "$tmp/old" && go build -o "$tmp/faultline-old" ./cmd/faultline)
	names+=(-name "faultline@$OLD") cmds+=(-- "$tmp/faultline-old" check)
fi
names+=(-name porcupine) cmds+=(-- "$tmp/porcupinecheck")

echo "== $n processes each on $(basename "$small"), alternating"
echo "$small" >"$tmp/small.args"
"$tmp/cputime" -n "$n" -args-from "$tmp/small.args" "${names[@]}" "${cmds[@]}"
echo
echo "== porcupine's corpus, one process per log"
ls "$porc"/test_data/jepsen/etcd_*.log >"$tmp/corpus.args"
"$tmp/cputime" -n 1 -args-from "$tmp/corpus.args" "${names[@]}" "${cmds[@]}"

echo
echo "== porcupine's corpus, all 103 logs in one process"
ls "$porc"/test_data/jepsen/etcd_*.log | tr '\n' ' ' >"$tmp/all.args"
echo >>"$tmp/all.args"
"$tmp/cputime" -n 5 -args-from "$tmp/all.args" "${names[@]}" "${cmds[@]}"
