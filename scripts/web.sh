#!/usr/bin/env bash
# The web client's checks (scripts/test.sh runs this after the Rust tests):
# Node.js and Debian's Chromium installed when missing; `npm ci && npm run
# build` must give exactly the committed web/dist (the server embeds it, so
# the binary never needs Node.js); the protocol client's unit tests
# (vitest); then the browser tests (Playwright driving /usr/bin/chromium)
# against target/debug/chat, which each spec starts on a fresh data dir.
# Screenshots of the main views land in target/web-screenshots/.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

apt_updated=
apt_install() {
    if [[ -z "$apt_updated" ]]; then
        apt-get update -qq
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# Vite 8 needs Node.js 20.19 or later.
node_ok() {
    command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 &&
        node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'
}
if ! node_ok; then
    step "installing Node.js (Debian's nodejs and npm)"
    apt_install nodejs npm
    node_ok || { echo "Node.js $(node --version 2>/dev/null) is too old: the client's build needs 20.19 or later" >&2; exit 1; }
fi
echo "node $(node --version), npm $(npm --version)"

if [[ ! -x /usr/bin/chromium ]]; then
    step "installing Chromium (Debian's chromium)"
    apt_install chromium
fi
/usr/bin/chromium --version

step "web client: npm ci && npm run build gives the committed web/dist"
# Built beside it, not over it: the files the binary embeds keep their
# timestamps, so cargo does not rebuild the edge for an identical bundle.
check="$PWD/target/web-dist-check"
rm -rf "$check"
(cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build -- --outDir "$check" --logLevel warn)
if ! diff -r web/dist "$check"; then
    echo "web/dist differs from a fresh build: run 'cd web && npm ci && npm run build' and commit web/dist" >&2
    exit 1
fi
if [[ -n "$(git status --porcelain -- web/dist)" ]]; then
    git status --short -- web/dist
    echo "web/dist has changes that are not committed" >&2
    exit 1
fi
echo "web/dist is what web/ builds to"

step "web client: unit tests (vitest)"
(cd web && npx vitest run)

step "web client: browser tests (Playwright + Chromium)"
# scripts/test.sh passes the binary its tests just built (WEB_SERVER_BIN);
# run alone, this builds it.
server_bin="${WEB_SERVER_BIN:-}"
if [[ -z $server_bin ]]; then
    cargo build --bin chat --locked
    server_bin=target/debug/chat
fi
server_bin=$(realpath "$server_bin")
rm -rf target/web-screenshots
(cd web && E2E_SERVER_BIN="$server_bin" npx playwright test)
echo "screenshots: $(ls target/web-screenshots | wc -l) files in target/web-screenshots/"
