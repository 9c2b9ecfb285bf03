# shellcheck shell=bash
# scripts/stack.d/postgres.sh - the private Postgres cluster: the portal's database and the registries'.

: "${PG_PORT:=15432}"
PG_DATA="$STACK_DIR/postgres"
PG_SOCK="$STACK_DIR/run/pg"
PG_USER=portal PG_PASSWORD=portal PG_DB=portal
# The registries' databases are provisioned here with the portal's, so that any cluster this script
# started can take either registry.
REGISTRY_DB=registry REGISTRY_DB_USER=registry REGISTRY_DB_PASSWORD=registry
REGISTRY_PROD_DB=registry_prod
PG_TIMEOUT=$((60 * T))

pg_bin() {
    local d
    # shellcheck disable=SC2012
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        [[ -x "$d/postgres" && -x "$d/initdb" ]] && { printf '%s\n' "$d"; return 0; }
    done
    return 1
}

# as_pg CMD... : run CMD as the postgres OS user when we are root (Postgres refuses to run as root),
# else as ourselves (a developer's own account owns the cluster then).
as_pg() {
    if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_running() { [[ -f "$PG_DATA/PG_VERSION" ]] && as_pg "$(pg_bin)/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; }
pg_pid() { pg_running && head -n1 "$PG_DATA/postmaster.pid"; }
pg_ready() { "$(pg_bin)/pg_isready" -q -h "$HOST" -p "$PG_PORT" -d postgres; }
# shellcheck disable=SC2120
psql_admin() { as_pg "$(pg_bin)/psql" -X -q -h "$PG_SOCK" -p "$PG_PORT" -U "$(pg_superuser)" -d postgres -v ON_ERROR_STOP=1 "$@"; }
# The cluster's superuser, reached by peer authentication over the unix socket.
pg_superuser() { if [[ $(id -u) == 0 ]]; then echo postgres; else id -un; fi; }

postgres_packages() { pg_bin >/dev/null || echo postgresql; }

# postgres_start : unlike the other services, wait for postgres here: provisioning needs it up, and the
# registries started after it need their databases.
postgres_start() {
    local bin log
    bin=$(pg_bin) || die "postgres: no PostgreSQL server binaries under /usr/lib/postgresql"
    log="$PROC_LOG_DIR/postgres.log"
    if pg_running; then
        say postgres "already running on $HOST:$PG_PORT (pid $(pg_pid))"
        postgres_provision
        return 0
    fi
    check_port_free postgres "$PG_PORT"
    mkdir -p "$PG_DATA" "$PG_SOCK"
    touch "$log"
    if [[ $(id -u) == 0 ]]; then
        id postgres >/dev/null 2>&1 || die "postgres: OS user 'postgres' missing (apt-get install postgresql)"
        # Postgres refuses to run as root: the cluster belongs to the postgres OS user, who must reach it.
        chmod a+x "$STACK_DIR"
        if ! as_pg test -x "$STACK_DIR"; then
            die "postgres: OS user postgres cannot traverse into $STACK_DIR (a parent directory lacks o+x); set STACK_DIR elsewhere"
        fi
        chown postgres:postgres "$PG_DATA" "$PG_SOCK" "$log"
    fi
    chmod 700 "$PG_DATA"
    if [[ ! -f "$PG_DATA/PG_VERSION" ]]; then
        say postgres "initdb $PG_DATA"
        local pwfile
        pwfile=$(mktemp) && echo postgres >"$pwfile"
        [[ $(id -u) == 0 ]] && chown postgres "$pwfile"
        as_pg "$bin/initdb" -D "$PG_DATA" -U "$(pg_superuser)" -E UTF8 --locale=C.UTF-8 \
            --auth-local=peer --auth-host=scram-sha-256 --pwfile="$pwfile" >>"$log" 2>&1 ||
            { rm -f "$pwfile"; proc_tail postgres; die "postgres: initdb failed"; }
        rm -f "$pwfile"
        echo "include_if_exists = 'stack.conf'" >>"$PG_DATA/postgresql.conf"
    fi
    # Regenerated on every start so port changes apply.
    cat >"$PG_DATA/stack.conf" <<EOF
# Written by scripts/stack on every start.
listen_addresses = '$HOST'
port = $PG_PORT
unix_socket_directories = '$PG_SOCK'
max_connections = 200
synchronous_commit = off
log_min_messages = warning
log_line_prefix = '%m [%p] %q%u@%d '
EOF
    [[ $(id -u) == 0 ]] && chown postgres:postgres "$PG_DATA/stack.conf"
    say postgres "starting on $HOST:$PG_PORT"
    # pg_ctl forks the postmaster into the background; its pid file is $PG_DATA/postmaster.pid.
    if ! (cd "$PG_DATA" && as_pg "$bin/pg_ctl" -D "$PG_DATA" -l "$log" -w -t "$PG_TIMEOUT" -s start 9>&-); then
        proc_tail postgres
        die "postgres: failed to start"
    fi
    postgres_wait postgres || die "postgres: not healthy"
    postgres_provision
}

postgres_wait() { wait_until postgres "$PG_TIMEOUT" pg_ready; }

postgres_provision() {
    # Idempotent: roles and databases are only created when missing.
    psql_admin <<SQL >/dev/null
SELECT 'CREATE ROLE $PG_USER LOGIN CREATEDB PASSWORD ''$PG_PASSWORD'''
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_USER') \gexec
SELECT 'CREATE DATABASE $PG_DB OWNER $PG_USER'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$PG_DB') \gexec
SELECT 'CREATE ROLE $REGISTRY_DB_USER LOGIN PASSWORD ''$REGISTRY_DB_PASSWORD'''
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$REGISTRY_DB_USER') \gexec
SELECT 'CREATE DATABASE $REGISTRY_DB OWNER $REGISTRY_DB_USER'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$REGISTRY_DB') \gexec
SELECT 'CREATE DATABASE $REGISTRY_PROD_DB OWNER $REGISTRY_DB_USER'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$REGISTRY_PROD_DB') \gexec
SQL
}

# pg_ctl, not proc_stop: the postmaster was forked by pg_ctl and has no proc.sh pid file.
postgres_stop() {
    if ! pg_running; then say postgres "not running"; return 0; fi
    say postgres "stopping (pid $(pg_pid))"
    (cd "$PG_DATA" && as_pg "$(pg_bin)/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 -s stop) ||
        die "postgres: pg_ctl stop failed"
}

postgres_pid() { pg_pid 2>/dev/null; }
postgres_address() { echo "$HOST:$PG_PORT"; }

postgres_check() {
    if pg_ready; then say postgres "ok"; else warn postgres "not answering on $HOST:$PG_PORT"; return 1; fi
}

postgres_env() { echo "export DATABASE_URL=postgres://$PG_USER:$PG_PASSWORD@$HOST:$PG_PORT/$PG_DB"; }
