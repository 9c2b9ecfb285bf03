# shellcheck shell=bash
# scripts/stack.d/eventstore.sh - the event store: FerretDB 1.x (MongoDB wire protocol) on the stack's Postgres,
# in a database of its own. Kafka Connect's MongoDB sink (connect.sh) and the portal reach it at EVENT_STORE_URI.
#
# FerretDB is the small Go program in eventstore/ferretdb (it embeds FerretDB as a library: FerretDB's own command
# cannot be built from the module proxy). It is built from the Go module proxy into $STACK_DIR/bin on first use and
# rebuilt when its sources change. eventstore.sql sets the database up (the _id GIN index upserts need).

: "${EVENT_STORE_PORT:=27018}"
EVENT_STORE_DB=eventstore EVENT_STORE_DB_USER=eventstore EVENT_STORE_DB_PASSWORD=eventstore
EVENT_STORE_SRC="$REPO_DIR/eventstore/ferretdb"
EVENT_STORE_BIN="$STACK_DIR/bin/ferretdb"
# A cold build (empty module and build caches) takes minutes on two cores.
EVENT_STORE_BUILD_TIMEOUT=$((900 * T))
EVENT_STORE_TIMEOUT=$((60 * T))

eventstore_needs() { echo postgres; }

# eventstore_go : print the go command: $GO, go on PATH, or /usr/local/go/bin/go (like scripts/kustomize).
eventstore_go() {
    local go=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
    [[ -x $go ]] && echo "$go"
}

# eventstore_source_sum : one checksum over the program's sources, so a changed pin or main.go rebuilds it.
eventstore_source_sum() { cat "$EVENT_STORE_SRC/main.go" "$EVENT_STORE_SRC/go.mod" "$EVENT_STORE_SRC/go.sum" | sha256sum | cut -d' ' -f1; }

eventstore_build() {
    local want go build_dir
    want=$(eventstore_source_sum)
    [[ -x $EVENT_STORE_BIN && "$(cat "$EVENT_STORE_BIN.sum" 2>/dev/null)" == "$want" ]] && return 0
    go=$(eventstore_go) || die "eventstore: Go is needed to build FerretDB (not on PATH, not /usr/local/go/bin/go; set GO)"
    say eventstore "building FerretDB ($EVENT_STORE_SRC) into $EVENT_STORE_BIN"
    mkdir -p "$STACK_DIR/bin"
    # Built beside the target and renamed into place, so that two first uses at once never run a half-written binary.
    build_dir=$(mktemp -d "$STACK_DIR/bin/.ferretdb-build.XXXXXX")
    # -mod=readonly: go.sum is committed and must already hold every module the build needs.
    if ! (cd "$EVENT_STORE_SRC" && timeout "$EVENT_STORE_BUILD_TIMEOUT" "$go" build -mod=readonly -trimpath \
        -o "$build_dir/ferretdb" .); then
        rm -rf "$build_dir"
        die "eventstore: go build of $EVENT_STORE_SRC failed"
    fi
    mv -f "$build_dir/ferretdb" "$EVENT_STORE_BIN"
    rm -rf "$build_dir"
    echo "$want" >"$EVENT_STORE_BIN.sum"
}

# eventstore_provision : the store's role and database, then eventstore.sql in it (idempotent; needs postgres up).
eventstore_provision() {
    psql_admin <<SQL >/dev/null
SELECT 'CREATE ROLE $EVENT_STORE_DB_USER LOGIN PASSWORD ''$EVENT_STORE_DB_PASSWORD'''
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$EVENT_STORE_DB_USER') \gexec
SELECT 'CREATE DATABASE $EVENT_STORE_DB OWNER $EVENT_STORE_DB_USER'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$EVENT_STORE_DB') \gexec
SQL
    # The event trigger in eventstore.sql needs the superuser.
    as_pg "$(pg_bin)/psql" -X -q -h "$PG_SOCK" -p "$PG_PORT" -U "$(pg_superuser)" -d "$EVENT_STORE_DB" \
        -v ON_ERROR_STOP=1 <"$CONF_DIR/eventstore.sql" >/dev/null || die "eventstore: eventstore.sql failed"
}

eventstore_start() {
    local name=$1
    if proc_running "$name"; then
        say "$name" "already running on $HOST:$EVENT_STORE_PORT (pid $(proc_pid "$name"))"
        return 0
    fi
    check_port_free "$name" "$EVENT_STORE_PORT"
    eventstore_build
    pg_ready || die "$name: postgres is not answering on $HOST:$PG_PORT"
    eventstore_provision
    say "$name" "starting FerretDB on $HOST:$EVENT_STORE_PORT (postgres database $EVENT_STORE_DB)"
    (cd "$STACK_DIR" && proc_start "$name" "$name.log" "$EVENT_STORE_BIN" -listen "$HOST:$EVENT_STORE_PORT" \
        -postgresql-url "postgres://$EVENT_STORE_DB_USER:$EVENT_STORE_DB_PASSWORD@$HOST:$PG_PORT/$EVENT_STORE_DB")
    STARTED+=("$name")
}

# eventstore_ping : a MongoDB `ping` over the wire protocol (OP_MSG), with the Python standard library, so it
# needs no driver. FerretDB answers ping only once it reaches its PostgreSQL database.
eventstore_ping() {
    python3 - "$HOST" "$EVENT_STORE_PORT" <<'PY'
import socket, struct, sys

def cstring(s):
    return s.encode() + b"\0"

body = b"\x10" + cstring("ping") + struct.pack("<i", 1) + b"\x02" + cstring("$db") + struct.pack("<i", 6) + cstring("admin")
doc = struct.pack("<i", len(body) + 5) + body + b"\0"
msg = struct.pack("<I", 0) + b"\0" + doc  # OP_MSG: flag bits, section kind 0, the command document
header = struct.pack("<iiii", 16 + len(msg), 1, 0, 2013)
try:
    with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3) as s:
        s.settimeout(3)
        s.sendall(header + msg)
        data = b""
        while len(data) < 4 or len(data) < struct.unpack("<i", data[:4])[0]:
            chunk = s.recv(65536)
            if not chunk:
                raise SystemExit("connection closed")
            data += chunk
except OSError as error:  # not listening yet: the caller waits and asks again
    raise SystemExit(f"no answer: {error}") from None
# {ok: 1.0} is a double; an error reply has ok 0.0 and an errmsg.
if b"\x01ok\x00" + struct.pack("<d", 1.0) not in data:
    raise SystemExit(f"ping failed: {data!r}")
PY
}

eventstore_wait() { wait_until "$1" "$EVENT_STORE_TIMEOUT" eventstore_ping; }
eventstore_stop() { stop_proc_service "$1"; }
eventstore_pid() { proc_pid "$1"; }
eventstore_address() { echo "mongodb://$HOST:$EVENT_STORE_PORT (FerretDB on postgres database $EVENT_STORE_DB)"; }

eventstore_check() {
    if eventstore_ping >/dev/null 2>&1; then say "$1" "ok"; else
        warn "$1" "no answer to a MongoDB ping on $HOST:$EVENT_STORE_PORT"; return 1
    fi
}

eventstore_env() { echo "export EVENT_STORE_URI=mongodb://$HOST:$EVENT_STORE_PORT/"; }
