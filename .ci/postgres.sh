# Sourced by .ci/run: make sure PostgreSQL answers on 127.0.0.1:5432 so the PostgreSQL tests run
# (in CI they fail, never skip, without it). Installs it with apt-get when absent, starts the
# cluster with pg_ctlcluster, and exports SPARKIFY_TEST_POSTGRES for the tests.
ensure_postgres() {
    local sudo="" version url="postgresql://postgres@127.0.0.1:5432/postgres"
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
        if ! command -v pg_ctlcluster >/dev/null 2>&1; then
            echo "ci: installing PostgreSQL with apt-get" >&2
            $sudo apt-get update -qq
            DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
        fi
        version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)"
        if [ -z "$version" ]; then
            version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
            $sudo pg_createcluster "$version" main >/dev/null
        fi
        echo "ci: starting PostgreSQL $version" >&2
        $sudo pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
        for _ in $(seq 1 30); do
            pg_isready -q -h 127.0.0.1 -p 5432 && break
            sleep 1
        done
    fi
    pg_isready -h 127.0.0.1 -p 5432 >&2 || { echo "ci: PostgreSQL did not start" >&2; return 1; }
    # A fresh Debian cluster wants a password over TCP: give the throw-away CI server one.
    if ! psql -w -h 127.0.0.1 -U postgres -d postgres -Atc "SELECT 1" >/dev/null 2>&1; then
        $sudo -u postgres psql -q -d postgres -c "ALTER USER postgres PASSWORD 'postgres'" >/dev/null 2>&1 \
            || su postgres -c "psql -q -d postgres -c \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
        url="postgresql://postgres:postgres@127.0.0.1:5432/postgres"
    fi
    export SPARKIFY_TEST_POSTGRES="${SPARKIFY_TEST_POSTGRES:-$url}"
}
