# Shared by scripts/cluster.sh and scripts/far_region.sh; the caller
# defines `die`.
# shellcheck shell=bash

# Waits for the "listening" line in the JSON log $1 of process $2 and
# prints "ADDR ID ADMIN" (the node or edge id, the admin address or -).
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
        print(f.get("addr", ""), f.get("edge_id", f.get("node_id", "")), f.get("admin", "-"))
        break
PY
)
        if [[ -n "$addr" ]]; then echo "$addr"; return; fi
        sleep 0.05
    done
    die "no address in $log after 10 s"
}
