#!/usr/bin/env bash
# Fuzzes the REST API against the OpenAPI document the server serves, with
# schemathesis: every status, content type and body the server answers must
# be the documented ones, and none may be a 5xx. `scripts/test.sh` runs it
# after the tests; run it alone while changing the API.
#
# It starts the debug `chat` binary (the one the test build produced) on a
# free loopback port with a fresh data directory, signs up an account, and
# runs schemathesis twice: anonymous, and with that account's bearer token.
#
# Environment (all optional):
#   SCHEMATHESIS_CHAT_BIN  the binary to start; default: the one that
#                          `cargo test --workspace --no-run` builds (not
#                          CHAT_*: the server reads those as its settings)
#   SCHEMATHESIS_MAX_TIME  seconds each of the two runs may take (default 45)
#   SCHEMATHESIS_EXAMPLES  most test cases per operation and phase (default 30)
#   SCHEMATHESIS_SEED      replay a run: its seed is printed at its end
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
# The four the API promises, and the two that hold 405 to its contract: a
# method an operation does not take gets 405, with an Allow header.
CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
CHECKS+=,unsupported_method,allow_header_conformance

# Operations (operationId, as in the served document) that end the token
# they are called with. The authenticated run leaves them out, so fuzzing
# cannot log out the token it runs with; the anonymous run covers them.
# `end` ends a session by id, and stateful runs find the current one's id
# in the session list. A password change keeps the caller's session.
TOKEN_ENDING_OPERATIONS=(logout logout_all end)

max_time=${SCHEMATHESIS_MAX_TIME:-45}
examples=${SCHEMATHESIS_EXAMPLES:-30}
# Everything schemathesis keeps (the virtualenv, found cases, the crash
# files `st replay` reads) lives here; it runs from here too.
state=$PWD/target/schemathesis
venv=$state/venv-$SCHEMATHESIS_VERSION

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

# --- schemathesis, pinned, in a virtualenv kept under target/ -------------
if [[ "$("$venv/bin/schemathesis" --version 2>/dev/null)" != *"$SCHEMATHESIS_VERSION"* ]]; then
    step "installing schemathesis $SCHEMATHESIS_VERSION into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        "schemathesis==$SCHEMATHESIS_VERSION"
fi
py=$venv/bin/python

# --- the server -------------------------------------------------------------
if [[ -z "${SCHEMATHESIS_CHAT_BIN:-}" ]]; then
    step "finding the chat binary of the test build"
    # The same build as `cargo nextest run --workspace --locked`: nothing is
    # rebuilt after the tests, and the binary is the one they ran.
    SCHEMATHESIS_CHAT_BIN=$(cargo test --workspace --locked --no-run --message-format=json |
        "$py" -c '
import json, sys
found = None
for line in sys.stdin:  # all of it: cargo fails on a closed pipe
    try:
        msg = json.loads(line)
    except ValueError:
        continue
    target = msg.get("target") or {}
    if (msg.get("reason") == "compiler-artifact" and target.get("name") == "chat"
            and "bin" in target.get("kind", []) and msg.get("executable")
            and not msg.get("profile", {}).get("test")):
        found = found or msg["executable"]
print(found or "")
')
fi
if [[ ! -x "${SCHEMATHESIS_CHAT_BIN:-}" ]]; then
    echo "schemathesis.sh: no chat binary found (set SCHEMATHESIS_CHAT_BIN)" >&2
    exit 1
fi

work=$(mktemp -d)
server_pid=
stop_server() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid"
        wait "$server_pid" 2>/dev/null || true
    fi
    server_pid=
}
cleanup() {
    stop_server
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "starting $SCHEMATHESIS_CHAT_BIN"
# Password hashing at its lowest cost: the fuzzer signs up and logs in a lot.
CHAT_CORE__PASSWORD_MEMORY_KIB=8 CHAT_CORE__PASSWORD_ITERATIONS=1 RUST_LOG=info \
    "$SCHEMATHESIS_CHAT_BIN" --listen 127.0.0.1:0 --data-dir "$work/data" --log-format json \
    </dev/null >/dev/null 2>"$work/server.log" &
server_pid=$!

server_log_tail() {
    echo "--- last lines of the server log ($work/server.log):" >&2
    tail -n 40 "$work/server.log" >&2 || true
}

# Waits for the address the server logs, then for /readyz; prints the base URL.
if ! base=$("$py" - "$work/server.log" "$server_pid" <<'EOF'
import json, os, sys, time, urllib.request

log, pid = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 60
addr = None
while addr is None:
    if time.monotonic() > deadline:
        sys.exit("the server did not log its address in time")
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit("the server exited before it listened")
    with open(log, encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                fields = json.loads(line).get("fields", {})
            except ValueError:
                continue
            if fields.get("message") == "listening":
                addr = fields["addr"]
    time.sleep(0.1)
base = f"http://{addr}"
while True:
    try:
        with urllib.request.urlopen(f"{base}/readyz", timeout=2) as resp:
            if resp.status == 200:
                break
    except OSError:
        pass
    if time.monotonic() > deadline:
        sys.exit("the server did not become ready in time")
    time.sleep(0.2)
print(base)
EOF
); then
    server_log_tail
    exit 1
fi
echo "serving at $base"

# An account for the authenticated run, signed up before any fuzzing.
token=$("$py" - "$base" <<'EOF'
import json, sys, urllib.request

body = json.dumps({"username": "schemathesis", "password": "schemathesis fuzzes"}).encode()
req = urllib.request.Request(
    f"{sys.argv[1]}/api/v1/auth/signup",
    data=body,
    headers={"Content-Type": "application/json"},
)
with urllib.request.urlopen(req, timeout=10) as resp:
    print(json.load(resp)["token"])
EOF
)

# --- the two runs -----------------------------------------------------------
mkdir -p "$state"
config=$PWD/scripts/schemathesis.toml
common=(
    "$base/api/v1/openapi.json"
    --checks "$CHECKS"
    --max-examples "$examples"
    --max-time "$max_time"
    --request-timeout 10
    # Replays the failing cases of earlier runs first.
    --generation-database "$state/examples"
    --no-color
)
if [[ -n "${SCHEMATHESIS_SEED:-}" ]]; then
    common+=(--seed "$SCHEMATHESIS_SEED")
fi
excluded=()
for id in "${TOKEN_ENDING_OPERATIONS[@]}"; do
    excluded+=(--exclude-operation-id "$id")
done

runs=0
failed=()
run() {
    local name=$1
    shift
    step "schemathesis $SCHEMATHESIS_VERSION: $name"
    runs=$((runs + 1))
    # A hard bound on top of --max-time, for a run that hangs.
    if ! (cd "$state" && timeout --kill-after=10 $((max_time + 60)) \
        "$venv/bin/schemathesis" --config-file "$config" run "${common[@]}" "$@"); then
        failed+=("$name")
    fi
}
run anonymous
run authenticated -H "Authorization: Bearer $token" "${excluded[@]}"

if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "schemathesis.sh: the server died during fuzzing" >&2
    failed+=("server")
fi
if ((${#failed[@]})); then
    server_log_tail
    echo "schemathesis.sh: failed: ${failed[*]}" >&2
fi
# A closing summary in the usual test-runner form: runs passed
# and failed (the server dying counts as a failure).
passed=$((runs - ${#failed[@]}))
echo "schemathesis: $((passed < 0 ? 0 : passed)) passed, ${#failed[@]} failed"
((${#failed[@]} == 0))
