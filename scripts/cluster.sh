#!/usr/bin/env bash
# A local cluster on loopback: one chat-core and N chat-edge processes.
#
#   scripts/cluster.sh up [--edges N] [--debug]   start (default 2 edges, release build)
#   scripts/cluster.sh down                       stop exactly the processes `up` started
#
# `up` writes target/cluster/cluster.json:
#   {"edges":[{"id":…,"pid":…,"http":"127.0.0.1:PORT"}],
#    "cores":[{"id":…,"pid":…,"grpc":"127.0.0.1:PORT"}],
#    "postgres":"postgres://…" or null}
# Every process picks a free port (it binds port 0 and logs the address);
# logs go to target/cluster/<name>.log. `postgres` names the database the
# cluster will use once the core stores in PostgreSQL; until then the core
# keeps its data in target/cluster/core-data (SQLite) and the field is null.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=target/cluster
state="$dir/cluster.json"

die() { echo "cluster.sh: $*" >&2; exit 1; }

# Waits for the "listening" line in a JSON log and prints its address.
wait_addr() {
    local log=$1 pid=$2
    for _ in $(seq 1 200); do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 20 "$log" >&2
            die "process $pid exited before listening (log: $log)"
        fi
        addr=$(python3 - "$log" <<'PY'
import json, sys
for line in open(sys.argv[1], errors="replace"):
    try:
        f = json.loads(line).get("fields", {})
    except ValueError:
        continue
    if f.get("message") == "listening":
        print(f.get("addr", ""), f.get("edge_id", f.get("node_id", "")))
        break
PY
)
        if [[ -n "$addr" ]]; then echo "$addr"; return; fi
        sleep 0.05
    done
    die "no address in $log after 10 s"
}

up() {
    local edges=2 profile=release
    while (($#)); do
        case $1 in
            --edges) edges=${2:?--edges needs a number}; shift 2 ;;
            --debug) profile=debug; shift ;;
            *) die "unknown option $1" ;;
        esac
    done
    [[ $edges =~ ^[1-9][0-9]*$ ]] || die "--edges must be a positive number"
    [[ -f $state ]] && die "a cluster is up ($state); run '$0 down' first"
    mkdir -p "$dir"
    local flags=()
    [[ $profile == release ]] && flags=(--release)
    cargo build --locked "${flags[@]}" --bin chat-core --bin chat-edge
    local bin="target/$profile"

    CHAT_DATA_DIR="$dir/core-data" "$bin/chat-core" --listen 127.0.0.1:0 --log-format json \
        2>"$dir/core.log" &
    local core_pid=$!
    read -r core_addr core_id < <(wait_addr "$dir/core.log" "$core_pid")
    echo "core $core_id: pid $core_pid, gRPC $core_addr"

    local edge_json=() pids=("$core_pid")
    for n in $(seq 1 "$edges"); do
        "$bin/chat-edge" --listen 127.0.0.1:0 --core "http://$core_addr" --log-format json \
            2>"$dir/edge-$n.log" &
        local pid=$!
        pids+=("$pid")
        read -r addr id < <(wait_addr "$dir/edge-$n.log" "$pid")
        echo "edge $id: pid $pid, http://$addr"
        edge_json+=("{\"id\":$id,\"pid\":$pid,\"http\":\"$addr\"}")
    done
    local IFS=,
    printf '{"edges":[%s],"cores":[{"id":%s,"pid":%s,"grpc":"%s"}],"postgres":null}\n' \
        "${edge_json[*]}" "$core_id" "$core_pid" "$core_addr" >"$state"
    echo "wrote $state"
}

down() {
    [[ -f $state ]] || { echo "no cluster is up"; return; }
    local pids
    pids=$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); print(" ".join(str(p["pid"]) for p in c["edges"] + c["cores"]))' "$state")
    # Edges first, so their sessions close while the core still answers.
    for pid in $pids; do
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
        kill -0 "$pid" 2>/dev/null && { echo "pid $pid ignored SIGTERM; killing"; kill -KILL "$pid"; }
    done
    rm -f "$state"
    echo "stopped: $pids"
}

case ${1:-} in
    up) shift; up "$@" ;;
    down) down ;;
    *) die "usage: $0 up [--edges N] [--debug] | down" ;;
esac
