#!/usr/bin/env bash
# A local cluster on loopback: ZooKeeper, M chat-core and N chat-edge processes.
#
#   scripts/cluster.sh up [--cores M] [--edges N] [--debug] [--storage sqlite] [--no-build]
#                                   start (default 1 core, 2 edges, release build,
#                                   PostgreSQL; --no-build: use the binaries already
#                                   in target/)
#   scripts/cluster.sh add-core     start one more core (with ZooKeeper), list it in
#                                   cluster.json, and drop from it the cores that ended
#   scripts/cluster.sh down [--drop] stop exactly the processes `up` started, and
#                                   ZooKeeper (--drop: and drop the database, the
#                                   SQLite data and ZooKeeper's data)
#
# `up` writes target/cluster/cluster.json:
#   {"edges":[{"id":…,"pid":…,"http":"127.0.0.1:PORT"}],
#    "cores":[{"id":…,"pid":…,"grpc":"127.0.0.1:PORT","admin":"127.0.0.1:PORT"}],
#    "postgres":"postgres://…/chat_cluster",
#    "zookeeper":"127.0.0.1:PORT"}
# (a core's "admin" serves /healthz, /readyz and /metrics; a core's "id" is
# the node id ZooKeeper gave it, the "owner" that `not_owner` errors name).
# The cores register in ZooKeeper (scripts/zookeeper.sh, data in
# target/cluster/zookeeper) under the chroot /chat-cluster and share the
# channels; the edges find them there. With `--storage sqlite` there is
# one core and no ZooKeeper (SQLite is one node's storage).
# Every process picks a free port (it binds port 0 and logs the address);
# logs go to target/cluster/<name>.log. The core stores in database
# `chat_cluster` of the PostgreSQL server on 127.0.0.1:5432 (the machine's
# own when it runs; otherwise scripts/postgres.sh installs and starts one);
# the database is kept between runs (`down --drop` removes it).
# `--storage sqlite` stores in target/cluster/data instead (one core only),
# which takes the database out of a comparison with the single node.
# Settings from the environment reach the process that has them: `CHAT_EDGE__*`
# and `CHAT_WORKER_THREADS` the edges, every other `CHAT_*` the core (each
# binary refuses keys it does not know).
set -euo pipefail
cd "$(dirname "$0")/.."

dir=target/cluster
state="$dir/cluster.json"

die() { echo "cluster.sh: $*" >&2; exit 1; }

# `env -u` options that keep from a process the CHAT_* settings it would
# refuse: $1 is "core" or "edge".
unset_for() {
    local v
    for v in $(compgen -e | grep '^CHAT_' || true); do
        case $1:$v in
            core:CHAT_EDGE__*) echo "-u $v" ;;
            edge:CHAT_EDGE__* | edge:CHAT_WORKER_THREADS) ;;
            edge:*) echo "-u $v" ;;
        esac
    done
}

# shellcheck source=scripts/wait_addr.sh
source scripts/wait_addr.sh

# Starts one chat-core ($1 bin dir, $2 storage, $3 database URL, $4
# ZooKeeper or empty, $5 log file); sets `started` to its cluster.json
# entry and `started_addr` to its gRPC address.
start_core() {
    local bin=$1 storage=$2 db_url=$3 zk=$4 log=$5 zk_env=()
    [[ -n $zk ]] && zk_env=(CHAT_ZOOKEEPER__CONNECT="$zk" CHAT_ZOOKEEPER__CHROOT=/chat-cluster)
    # shellcheck disable=SC2046 # one option per word
    env $(unset_for core) CHAT_STORAGE="$storage" CHAT_POSTGRES__URL="$db_url" \
        CHAT_DATA_DIR="$dir/data" CHAT_ADMIN__LISTEN=127.0.0.1:0 "${zk_env[@]}" \
        "$bin/chat-core" --listen 127.0.0.1:0 --log-format json \
        </dev/null >/dev/null 2>"$log" &
    local pid=$! addr id admin
    read -r addr id admin < <(wait_addr "$log" "$pid")
    echo "core $id: pid $pid, gRPC $addr, admin http://$admin"
    started="{\"id\":$id,\"pid\":$pid,\"grpc\":\"$addr\",\"admin\":\"$admin\"}"
    started_addr=$addr
}

# Starts one more core of the running cluster and lists it in cluster.json,
# which then leaves out cores whose process has ended.
add_core() {
    [[ -f $state ]] || die "no cluster is up"
    local fields
    fields=$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); print(c["bin"], c["storage"], c["postgres"], c["zookeeper"] or "-")' "$state")
    local bin storage db_url zk
    read -r bin storage db_url zk <<<"$fields"
    [[ $zk == - ]] && die "a cluster without ZooKeeper has one core"
    local n
    n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["cores"]) + 1)' "$state")
    start_core "$bin" "$storage" "$db_url" "$zk" "$dir/core-$n-$(date +%s%N).log"
    python3 - "$state" "$started" <<'PY'
import json, os, sys
path, entry = sys.argv[1], json.loads(sys.argv[2])
c = json.load(open(path))
c["cores"] = [k for k in c["cores"] if os.path.exists(f"/proc/{k['pid']}")] + [entry]
tmp = path + ".tmp"
json.dump(c, open(tmp, "w"))
os.replace(tmp, path)
PY
}

up() {
    local cores=1 edges=2 profile=release storage=postgres build=yes
    while (($#)); do
        case $1 in
            --cores) cores=${2:?--cores needs a number}; shift 2 ;;
            --edges) edges=${2:?--edges needs a number}; shift 2 ;;
            --debug) profile=debug; shift ;;
            --storage) storage=${2:?--storage needs postgres or sqlite}; shift 2 ;;
            --no-build) build=no; shift ;;
            *) die "unknown option $1" ;;
        esac
    done
    [[ $storage == postgres || $storage == sqlite ]] || die "--storage must be postgres or sqlite"
    [[ $edges =~ ^[1-9][0-9]*$ ]] || die "--edges must be a positive number"
    [[ $cores =~ ^[1-9][0-9]*$ ]] || die "--cores must be a positive number"
    [[ $storage == sqlite && $cores != 1 ]] && die "--storage sqlite is one core's storage: leave out --cores"
    [[ -f $state ]] && die "a cluster is up ($state); run '$0 down' first"
    mkdir -p "$dir"
    # shellcheck source=scripts/postgres.sh
    source scripts/postgres.sh
    local server_url db_url
    server_url=$(ensure_postgres) || die "no PostgreSQL to store in"
    db_url="${server_url%/*}/chat_cluster"
    if [[ -z $(psql "$server_url" -Atqc "SELECT 1 FROM pg_database WHERE datname = 'chat_cluster'") ]]; then
        psql "$server_url" -qc "CREATE DATABASE chat_cluster"
        echo "created database chat_cluster"
    fi
    local flags=()
    [[ $profile == release ]] && flags=(--release)
    local bin="target/$profile"
    if [[ $build == yes ]]; then
        cargo build --locked "${flags[@]}" --bin chat-core --bin chat-edge
    fi
    for b in chat-core chat-edge; do
        [[ -x $bin/$b ]] || die "$bin/$b is missing (build it, or leave out --no-build)"
    done

    local zk="" zk_env=()
    if [[ $storage == postgres ]]; then
        # shellcheck source=scripts/zookeeper.sh
        source scripts/zookeeper.sh
        zk=$(zk_start "$dir/zookeeper") || die "no ZooKeeper"
        echo "zookeeper: $zk (data in $dir/zookeeper)"
        zk_env=(CHAT_ZOOKEEPER__CONNECT="$zk" CHAT_ZOOKEEPER__CHROOT=/chat-cluster)
    fi

    local core_json=() first_core=""
    for n in $(seq 1 "$cores"); do
        start_core "$bin" "$storage" "$db_url" "$zk" "$dir/core-$n.log"
        core_json+=("$started")
        [[ -n $first_core ]] || first_core=$started_addr
    done

    local edge_json=()
    for n in $(seq 1 "$edges"); do
        local where=(--core "http://$first_core")
        [[ -n $zk ]] && where=()
        # shellcheck disable=SC2046 # one option per word
        env $(unset_for edge) "${zk_env[@]}" "$bin/chat-edge" --listen 127.0.0.1:0 "${where[@]}" --log-format json \
            </dev/null >/dev/null 2>"$dir/edge-$n.log" &
        local pid=$!
        read -r addr id _ < <(wait_addr "$dir/edge-$n.log" "$pid")
        echo "edge $id: pid $pid, http://$addr"
        edge_json+=("{\"id\":$id,\"pid\":$pid,\"http\":\"$addr\"}")
    done
    local IFS=,
    printf '{"edges":[%s],"cores":[%s],"postgres":"%s","zookeeper":"%s","bin":"%s","storage":"%s"}\n' \
        "${edge_json[*]}" "${core_json[*]}" "$db_url" "$zk" "$bin" "$storage" >"$state"
    echo "wrote $state"
}

down() {
    local drop=${1:-}
    [[ -z $drop || $drop == --drop ]] || die "unknown option $drop"
    [[ -f $state ]] || { echo "no cluster is up"; return; }
    local db_url
    db_url=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["postgres"])' "$state")
    local pids
    pids=$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); print(" ".join(str(p["pid"]) for p in c["edges"] + c["cores"]))' "$state")
    # Edges first, so their sessions close while the cores still answer.
    for pid in $pids; do
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
        kill -0 "$pid" 2>/dev/null && { echo "pid $pid ignored SIGTERM; killing"; kill -KILL "$pid"; }
    done
    rm -f "$state"
    echo "stopped: $pids"
    if [[ -d $dir/zookeeper ]]; then
        # shellcheck source=scripts/zookeeper.sh
        source scripts/zookeeper.sh
        zk_stop "$dir/zookeeper" || true
    fi
    if [[ $drop == --drop ]]; then
        psql "${db_url%/*}/postgres" -qc "DROP DATABASE IF EXISTS chat_cluster"
        rm -rf "$dir/data" "$dir/zookeeper"
        echo "dropped database chat_cluster, $dir/data and $dir/zookeeper"
    fi
}

case ${1:-} in
    up) shift; up "$@" ;;
    add-core) shift; add_core ;;
    down) shift; down "$@" ;;
    *) die "usage: $0 up [--cores M] [--edges N] [--debug] [--storage sqlite] [--no-build] | add-core | down [--drop]" ;;
esac
