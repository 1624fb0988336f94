#!/usr/bin/env bash
# raftrates.sh N: detection and false-positive rates for the Raft and
# last-write-wins systems, N runs of each row (the README's figures use 20),
# each a fresh cluster and seed:
#   raft              never flagged, 30 s under every fault with clients partitioned
#   raft-stale-reads  flagged (not linearizable), no faults
#   raft-lease        flagged (not linearizable) when the leader is paused
#   lww-arrival       monotonic writes ruled out and replicas diverge, no faults
#   lww-clock         monotonic writes ruled out under clock offsets
#   lww-version       monotonic writes never ruled out, partitions and clock offsets
# It takes N × about 4 minutes; run it under nice on a shared machine:
#   nice -n 10 scripts/raftrates.sh 20
# ROWS="raft-lease lww-clock" runs only those rows.
set -uo pipefail
n=${1:?usage: raftrates.sh N}
cd "$(dirname "$0")/.."
out=$(mktemp -d)
row() { # name, expectation (flagged|valid), text the output must hold ('' for none), run flags...
	local name=$1 want=$2 text=$3
	shift 3
	case " ${ROWS:-$name} " in *" $name "*) ;; *) return ;; esac
	mkdir -p "$out/$name"
	STORE="$out/$name" EXPECT="$text" scripts/detect.sh "$n" --nodes 3 "$@" >"$out/$name.log" 2>&1
	local flagged matched
	flagged=$(sed -n 's/^flagged \([0-9]*\) of.*/\1/p' "$out/$name.log")
	matched=$(sed -n "s/^output mentions .* in \([0-9]*\) of.*/\1/p" "$out/$name.log")
	printf '%-18s want %-7s flagged %2s/%s' "$name" "$want" "$flagged" "$n"
	[ -z "$text" ] || printf '  "%s" %2s/%s' "$text" "$matched" "$n"
	echo
}
row raft valid '' --target raft --time-limit 30s --nemesis all --nemesis-interval 2s --partition-clients
row raft-stale-reads flagged 'nonlinearizable' --target raft-stale-reads --time-limit 8s
# As the matrix cell: groups of three clients per key, one homed at each
# node, and three pauses of the leader that end before the heal.
row raft-lease flagged 'nonlinearizable' --target raft-lease --target-opt heartbeat-timeout=300ms --concurrency 12 --keys 4 --time-limit 14s --nemesis pause --nemesis-targets primaries --nemesis-interval 2s
row lww-arrival flagged 'ruled out.*monotonic-writes.*strongest' --target lww-arrival --workload list-append --time-limit 8s
row lww-clock flagged 'ruled out.*monotonic-writes.*strongest' --target lww-clock --workload list-append --time-limit 8s --nemesis clock --nemesis-interval 1s
row lww-version flagged 'ruled out.*monotonic-writes.*strongest' --target lww-version --workload list-append --time-limit 8s --nemesis partition,clock --nemesis-interval 1s
echo "runs and logs in $out"
