#!/usr/bin/env bash
# Sets up and runs the whole test suite: format check, clippy with warnings
# as errors, every test with cargo-nextest, then the REST API fuzzed
# against its OpenAPI document (scripts/schemathesis.sh, which installs a
# pinned schemathesis from PyPI under target/). `.ci/run` calls this script.
#
# The suite needs no outside service yet; when it does, this script installs
# and starts it and exports its address, so no test is ever skipped here.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

if ! cargo nextest --version >/dev/null 2>&1; then
    step "installing cargo-nextest"
    cargo install cargo-nextest --locked
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "tests (cargo nextest)"
profile=default
if [[ -n "${CI:-}" ]]; then profile=ci; fi
cargo nextest run --workspace --locked --profile "$profile" --no-fail-fast

step "doc tests"
cargo test --workspace --locked --doc --quiet

step "REST API against its OpenAPI document (schemathesis)"
scripts/schemathesis.sh
