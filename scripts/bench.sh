#!/usr/bin/env bash
# Runs one loadtest scenario against a fresh server, as docs/benchmarks.md
# records them:
#
#   scripts/bench.sh single  REPORT.json SCENARIO [options]   the single node
#   scripts/bench.sh cluster REPORT.json [--cores M] [--edges N] [--storage sqlite] -- SCENARIO [options]
#                                                             ZooKeeper, M chat-core + N chat-edge
#
# Each run starts from empty storage (a fresh data directory, or the
# cluster's database dropped) with cheap password hashing (sign-up is not
# what is measured) and the REST limit raised, and stops the server after.
# Release builds of the binaries and of loadtest are made first.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "bench.sh: $*" >&2; exit 1; }
(($# >= 3)) || die "usage: $0 single|cluster REPORT.json ..."
mode=$1 report=$2
shift 2

export CHAT_CORE__PASSWORD_MEMORY_KIB=8 CHAT_CORE__PASSWORD_ITERATIONS=1
export CHAT_EDGE__REST_PER_SEC=100000 CHAT_EDGE__REST_BURST=100000
ulimit -n 20000
cargo build --release --locked -p chat -p loadtest -q

case $mode in
    single)
        data=target/bench/data
        rm -rf "$data" && mkdir -p "$data"
        target/release/chat --listen 127.0.0.1:18080 --data-dir "$data" \
            </dev/null >/dev/null 2>target/bench/single.log &
        pid=$!
        trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
        for _ in $(seq 1 200); do
            curl -fs http://127.0.0.1:18080/healthz >/dev/null && break
            kill -0 "$pid" 2>/dev/null || die "the server exited (target/bench/single.log)"
            sleep 0.05
        done
        target/release/loadtest --target 127.0.0.1:18080 --server-pid "$pid" --json "$report" "$@"
        ;;
    cluster)
        up=()
        while (($#)) && [[ $1 != -- ]]; do up+=("$1"); shift; done
        [[ ${1:-} == -- ]] || die "cluster: put -- before the scenario"
        shift
        scripts/cluster.sh down --drop >/dev/null
        scripts/cluster.sh up "${up[@]}"
        trap 'scripts/cluster.sh down --drop >/dev/null' EXIT
        target/release/loadtest --cluster target/cluster/cluster.json --json "$report" "$@"
        ;;
    *) die "unknown mode $mode (single or cluster)" ;;
esac
