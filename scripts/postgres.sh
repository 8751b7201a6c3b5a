# Sourced by scripts/test.sh and scripts/cluster.sh: makes sure a
# PostgreSQL server answers on 127.0.0.1:5432 (the machine's own when it
# runs; otherwise installed with apt-get and started, which needs root) and
# prints a URL that logs in to it as postgres. Progress goes to stderr.

# Prints the URL to use once one answers; exits non-zero if none does.
pg_url() {
    local url
    for url in "postgres://postgres@127.0.0.1:5432/postgres" \
        "postgres://postgres:chat-test@127.0.0.1:5432/postgres"; do
        if PGCONNECT_TIMEOUT=5 psql "$url" -Atqc 'SELECT 1' >/dev/null 2>&1; then
            echo "$url"
            return 0
        fi
    done
    return 1
}
ensure_postgres() {
    if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
        echo "a server answers on 127.0.0.1:5432" >&2
    else
        if [[ "$(id -u)" -ne 0 ]]; then
            echo "no PostgreSQL on 127.0.0.1:5432, and installing one needs root;" \
                "start one or set TEST_POSTGRES_URL" >&2
            return 1
        fi
        if ! command -v pg_ctlcluster >/dev/null 2>&1; then
            echo "installing postgresql (apt-get)" >&2
            apt-get update -qq >&2
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
        fi
        if [[ -z "$(pg_lsclusters -h)" ]]; then
            version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
            echo "creating cluster $version/main" >&2
            pg_createcluster "$version" main >/dev/null
        fi
        read -r version cluster _ < <(pg_lsclusters -h | head -n 1)
        echo "starting cluster $version/$cluster" >&2
        pg_ctlcluster "$version" "$cluster" start >&2 || true
        for _ in $(seq 1 30); do
            pg_isready -q -h 127.0.0.1 -p 5432 && break
            sleep 1
        done
        pg_isready -h 127.0.0.1 -p 5432 >&2 || return 1
    fi
    if ! url=$(pg_url); then
        # A fresh Debian cluster wants a password over TCP: give the
        # postgres role the test password (local peer auth needs none).
        if [[ "$(id -u)" -eq 0 ]]; then
            echo "setting the postgres role's password for the tests" >&2
            runuser -u postgres -- psql -qc "ALTER ROLE postgres PASSWORD 'chat-test'" >&2
        fi
        url=$(pg_url) || {
            echo "cannot log in to PostgreSQL on 127.0.0.1:5432 as postgres;" \
                "set TEST_POSTGRES_URL" >&2
            return 1
        }
    fi
    echo "$url"
}
