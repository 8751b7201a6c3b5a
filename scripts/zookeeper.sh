#!/usr/bin/env bash
# A standalone ZooKeeper server of our own, for the tests and the local
# cluster. Sourced by scripts/test.sh (and later scripts/cluster.sh), or run:
#
#   scripts/zookeeper.sh start [DIR]    start (or find running) and print 127.0.0.1:PORT
#   scripts/zookeeper.sh stop [DIR]     stop the server started in DIR
#   scripts/zookeeper.sh restart [DIR]  stop, then start again on the same port and data
#   scripts/zookeeper.sh status [DIR]   print 127.0.0.1:PORT if it answers, else fail
#
# DIR defaults to target/zookeeper. ZooKeeper 3.8 comes from Debian
# (`apt-get install zookeeperd`, installed here when missing, which needs
# root); the package's own service is never used (no systemd here): we run
# the server's Java main class, org.apache.zookeeper.server.ZooKeeperServerMain,
# with the jars Debian installs, on a config we write to DIR/zoo.cfg:
#   - a free loopback port, chosen on the first start and kept in DIR/port,
#     so a restart comes back at the address clients already hold;
#   - data in DIR/data, kept across restarts (zxids, and with them the
#     nodes' epochs, keep increasing; deleting DIR starts from zero);
#   - tickTime=500 with minSessionTimeout=1000, so tests may use short
#     sessions (ZooKeeper's default minimum is 2 x tickTime = 4 s at 2000);
#   - the four-letter words ruok/srvr/stat/mntr/cons allowed (we wait on ruok);
#   - the admin HTTP server (Jetty, port 8080 by default) off.
# The pid is in DIR/zookeeper.pid and the log in DIR/zookeeper.log. Progress
# goes to stderr; only the connect string goes to stdout.

zk_die() { echo "zookeeper.sh: $*" >&2; return 1; }

# Installs Debian's ZooKeeper when its jar is missing.
zk_install() {
    if [[ -f /usr/share/java/zookeeper.jar ]] && command -v java >/dev/null 2>&1; then
        return 0
    fi
    if [[ "$(id -u)" -ne 0 ]]; then
        zk_die "ZooKeeper is not installed, and installing it needs root (apt-get install zookeeperd)"
        return 1
    fi
    echo "installing zookeeperd (apt-get)" >&2
    apt-get update -qq >&2
    # The package's service is not started here (no init system), and must
    # not be: we run our own server below.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zookeeperd >&2
}

# Asks the server on 127.0.0.1:$1 `ruok`; succeeds when it says `imok`.
zk_ruok() {
    local reply
    reply=$(python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2) as s:
    s.sendall(b"ruok")
    s.shutdown(socket.SHUT_WR)
    print(s.recv(16).decode())
PY
) || return 1
    [[ $reply == imok ]]
}

# Prints a free loopback port.
zk_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Succeeds when 127.0.0.1:$1 can be listened on (SO_REUSEADDR, as the
# server does, so connections of the last run in TIME_WAIT do not count).
zk_port_free() {
    python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
PY
}

# Prints the pid of the server running on DIR/zoo.cfg, if one does.
zk_find_pid() {
    local dir=$1 proc
    for proc in /proc/[0-9]*; do
        if zk_is_server "${proc#/proc/}" "$dir"; then
            echo "${proc#/proc/}"
            return 0
        fi
    done
}

# Succeeds when process $1 is a java running the server on $2/zoo.cfg
# (checking the name too: a grep for the command line would match itself).
zk_is_server() {
    [[ "$(cat "/proc/$1/comm" 2>/dev/null)" == java ]] &&
        tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF "ZooKeeperServerMain $2/zoo.cfg"
}

# Succeeds when DIR's pid file names a live ZooKeeper of DIR (not some other
# process that got the pid later).
zk_running() {
    local dir=$1 pid
    [[ -f "$dir/zookeeper.pid" ]] || return 1
    pid=$(cat "$dir/zookeeper.pid")
    [[ -n "$pid" ]] && zk_is_server "$pid" "$dir"
}

zk_start() {
    local dir
    dir=$(realpath -m "${1:-target/zookeeper}")
    zk_install || return 1
    mkdir -p "$dir/data"
    if zk_running "$dir"; then
        local port
        port=$(cat "$dir/port")
        if zk_ruok "$port"; then
            echo "ZooKeeper already runs (pid $(cat "$dir/zookeeper.pid")) on 127.0.0.1:$port" >&2
            echo "127.0.0.1:$port"
            return 0
        fi
        echo "ZooKeeper (pid $(cat "$dir/zookeeper.pid")) runs but does not answer; restarting it" >&2
        zk_stop "$dir"
    fi
    local port=
    if [[ -f "$dir/port" ]]; then
        port=$(cat "$dir/port")
        if ! zk_port_free "$port"; then
            echo "port $port of the last start is taken by another process; choosing another" >&2
            port=
        fi
    fi
    [[ -n $port ]] || port=$(zk_free_port)
    echo "$port" >"$dir/port"
    cat >"$dir/zoo.cfg" <<EOF
# Written by scripts/zookeeper.sh; rewritten on every start.
tickTime=500
minSessionTimeout=1000
maxSessionTimeout=60000
dataDir=$dir/data
clientPortAddress=127.0.0.1
clientPort=$port
maxClientCnxns=0
4lw.commands.whitelist=ruok,srvr,stat,mntr,cons
admin.enableServer=false
autopurge.purgeInterval=1
autopurge.snapRetainCount=3
EOF
    # zookeeper.jar's manifest lists its dependencies; slf4j-simple (from
    # libslf4j-java, which the package depends on) sends the log to stderr.
    local cp=/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar
    echo "starting ZooKeeper on 127.0.0.1:$port (data $dir/data, log $dir/zookeeper.log)" >&2
    # setsid: a session of its own, so a Ctrl-C of the caller or the end of
    # a test's process group does not take the server along. `-f` forks
    # always, so the pid is found by the command line, which names DIR.
    setsid -f java -Xmx256m -Dzookeeper.jmx.log4j.disable=true \
        -Dorg.slf4j.simpleLogger.showDateTime=true \
        "-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSXXX" \
        -cp "$cp" org.apache.zookeeper.server.ZooKeeperServerMain "$dir/zoo.cfg" \
        >>"$dir/zookeeper.log" 2>&1 </dev/null
    local pid= i
    for i in $(seq 1 150); do
        if [[ -z $pid ]]; then
            # setsid's child is java once it has exec'd: give it 2 s.
            pid=$(zk_find_pid "$dir")
            if [[ -n $pid ]]; then echo "$pid" >"$dir/zookeeper.pid"; elif ((i < 10)); then sleep 0.2; continue; fi
        fi
        if [[ -z $pid ]] || ! kill -0 "$pid" 2>/dev/null; then
            tail -n 20 "$dir/zookeeper.log" >&2
            rm -f "$dir/zookeeper.pid"
            zk_die "ZooKeeper exited while starting (log: $dir/zookeeper.log)"
            return 1
        fi
        if zk_ruok "$port"; then
            echo "ZooKeeper answers on 127.0.0.1:$port (pid $pid)" >&2
            echo "127.0.0.1:$port"
            return 0
        fi
        sleep 0.2
    done
    zk_die "ZooKeeper did not answer on 127.0.0.1:$port within 30 s (log: $dir/zookeeper.log)"
}

zk_stop() {
    local dir pid
    dir=$(realpath -m "${1:-target/zookeeper}")
    if ! zk_running "$dir"; then
        rm -f "$dir/zookeeper.pid"
        echo "no ZooKeeper runs from $dir" >&2
        return 0
    fi
    pid=$(cat "$dir/zookeeper.pid")
    echo "stopping ZooKeeper (pid $pid)" >&2
    kill -TERM "$pid"
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "ZooKeeper (pid $pid) ignored SIGTERM for 10 s; SIGKILL" >&2
        kill -KILL "$pid"
        while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    fi
    rm -f "$dir/zookeeper.pid"
}

zk_status() {
    local dir
    dir=$(realpath -m "${1:-target/zookeeper}")
    zk_running "$dir" && zk_ruok "$(cat "$dir/port")" && echo "127.0.0.1:$(cat "$dir/port")"
}

# For scripts/test.sh: installs when needed, starts (or reuses) the server
# in target/zookeeper and prints its connect string.
ensure_zookeeper() {
    zk_start target/zookeeper
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -euo pipefail
    cd "$(dirname "$0")/.."
    case ${1:-} in
        start) zk_start "${2:-}" ;;
        stop) zk_stop "${2:-}" ;;
        restart) zk_stop "${2:-}" && zk_start "${2:-}" ;;
        status) zk_status "${2:-}" ;;
        *) echo "usage: $0 start|stop|restart|status [DIR]" >&2; exit 2 ;;
    esac
fi
