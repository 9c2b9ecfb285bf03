# shellcheck shell=bash
# scripts/stack.d/kafka.sh - the Kafka brokers: kafka (dev) and kafka-prod, the independent cluster the portal
# promotes to. Both are single-node KRaft clusters made from server.properties.template.

: "${KAFKA_PORT:=19092}"
: "${KAFKA_CONTROLLER_PORT:=19093}"
: "${KAFKA_SASL_PORT:=19094}"
: "${KAFKA_PROD_PORT:=19192}"
: "${KAFKA_PROD_CONTROLLER_PORT:=19193}"
: "${KAFKA_PROD_SASL_PORT:=19194}"
KAFKA_VERSION=4.1.1
KAFKA_LIBS="$STACK_DIST_DIR/kafka-$KAFKA_VERSION/libs"
: "${KAFKA_HEAP_OPTS:=-Xms256m -Xmx768m}"
# The production pair is only there to be promoted to; it gets less memory (CI machines have 2 cores).
: "${KAFKA_PROD_HEAP_OPTS:=-Xms128m -Xmx384m}"
KAFKA_DIR="$STACK_DIR/kafka"
KAFKA_PROD_DIR="$STACK_DIR/kafka-prod"
KAFKA_TIMEOUT=$((120 * T))

kafka_cp() { printf '%s/*' "$KAFKA_LIBS"; }

# kafka_instance NAME : set K_DIR K_PORT K_CONTROLLER_PORT K_SASL_PORT K_HEAP for the broker NAME
# (kafka or kafka-prod). Both are single-node KRaft clusters made from the same template.
kafka_instance() {
    case $1 in
        kafka) K_DIR=$KAFKA_DIR K_PORT=$KAFKA_PORT K_CONTROLLER_PORT=$KAFKA_CONTROLLER_PORT
            K_SASL_PORT=$KAFKA_SASL_PORT K_HEAP=$KAFKA_HEAP_OPTS ;;
        kafka-prod) K_DIR=$KAFKA_PROD_DIR K_PORT=$KAFKA_PROD_PORT K_CONTROLLER_PORT=$KAFKA_PROD_CONTROLLER_PORT
            K_SASL_PORT=$KAFKA_PROD_SASL_PORT K_HEAP=$KAFKA_PROD_HEAP_OPTS ;;
        *) die "kafka_instance: unknown broker '$1'" ;;
    esac
}

# kafka_probe PORT : a real Kafka round trip on PORT (ApiVersions, then Metadata v1 on PLAINTEXT),
# implemented with the Python standard library so it needs no client package.
kafka_probe() {
    python3 - "$HOST" "$1" "${2:-metadata}" <<'PY'
import socket, struct, sys
host, port, what = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def call(sock, api_key, version, body, corr):
    client = b"stack-probe"
    hdr = struct.pack(">hhih", api_key, version, corr, len(client)) + client
    msg = hdr + body
    sock.sendall(struct.pack(">i", len(msg)) + msg)
    size = struct.unpack(">i", recv(sock, 4))[0]
    data = recv(sock, size)
    if struct.unpack(">i", data[:4])[0] != corr:
        raise SystemExit("bad correlation id")
    return data[4:]

def recv(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise SystemExit("connection closed")
        buf += chunk
    return buf

try:
    with socket.create_connection((host, port), timeout=3) as s:
        s.settimeout(3)
        r = call(s, 18, 0, b"", 1)  # ApiVersions v0
        if struct.unpack(">h", r[:2])[0] != 0:
            raise SystemExit("ApiVersions error")
        if what == "metadata":
            r = call(s, 3, 1, struct.pack(">i", 0), 2)  # Metadata v1, no topics
            (nbrokers,) = struct.unpack(">i", r[:4])
            off = 4
            for _ in range(nbrokers):
                off += 4
                (hl,) = struct.unpack(">h", r[off:off + 2]); off += 2 + hl
                off += 4
                (rl,) = struct.unpack(">h", r[off:off + 2]); off += 2 + max(rl, 0)
            (controller,) = struct.unpack(">i", r[off:off + 4])
            if nbrokers < 1 or controller < 0:
                raise SystemExit("no brokers/controller yet")
except OSError as error:  # not listening yet: the caller waits and asks again
    raise SystemExit(f"no answer: {error}") from None
PY
}

# kafka_healthy NAME : the broker NAME answers metadata on PLAINTEXT and ApiVersions on its SASL listener.
kafka_healthy() {
    local name=$1
    kafka_instance "$name"
    if command -v python3 >/dev/null; then
        kafka_probe "$K_PORT" metadata && kafka_probe "$K_SASL_PORT" apiversions
    else
        # Without python3: the ports accept connections and the broker logged that it finished starting.
        tcp_open "$K_PORT" && tcp_open "$K_SASL_PORT" &&
            tail -n 400 "$(proc_logfile "$name")" | grep -q 'Kafka Server started'
    fi
}

# kafka_start NAME : format (first time: new cluster id, admin SCRAM user) and start the broker NAME.
kafka_start() {
    local name=$1
    kafka_instance "$name"
    if proc_running "$name"; then
        say "$name" "already running on $HOST:$K_PORT (sasl $HOST:$K_SASL_PORT, pid $(proc_pid "$name"))"
        return 0
    fi
    check_port_free "$name" "$K_PORT" "$K_CONTROLLER_PORT" "$K_SASL_PORT"
    mkdir -p "$K_DIR/data"
    render "$CONF_DIR/server.properties.template" "$K_DIR/server.properties" \
        HOST="$HOST" KAFKA_PORT="$K_PORT" KAFKA_CONTROLLER_PORT="$K_CONTROLLER_PORT" \
        KAFKA_SASL_PORT="$K_SASL_PORT" LOG_DIRS="$K_DIR/data"
    local log="$PROC_LOG_DIR/$name.log"
    if [[ ! -s "$K_DIR/cluster.id" ]]; then
        "$JAVA" -cp "$(kafka_cp)" kafka.tools.StorageTool random-uuid 2>>"$log" >"$K_DIR/cluster.id.tmp" ||
            { proc_tail "$name"; die "$name: could not generate a cluster id"; }
        mv -f "$K_DIR/cluster.id.tmp" "$K_DIR/cluster.id"
    fi
    local cid
    cid=$(<"$K_DIR/cluster.id")
    if [[ ! -f "$K_DIR/data/meta.properties" ]]; then
        say "$name" "formatting storage (cluster id $cid)"
        # An admin SCRAM user exists from the start (super user), for tests that want SASL as a super user.
        "$JAVA" -Dlog4j2.configurationFile="file:$CONF_DIR/log4j2.properties" -cp "$(kafka_cp)" \
            kafka.tools.StorageTool format -t "$cid" -c "$K_DIR/server.properties" --ignore-formatted \
            --add-scram 'SCRAM-SHA-512=[name=admin,password=admin-secret]' >>"$log" 2>&1 ||
            { proc_tail "$name"; die "$name: storage format failed"; }
    fi
    say "$name" "starting on $HOST:$K_PORT (sasl $HOST:$K_SASL_PORT, controller $HOST:$K_CONTROLLER_PORT)"
    # shellcheck disable=SC2086
    (cd "$K_DIR" && proc_start "$name" "$name.log" "$JAVA" $K_HEAP \
        -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExitOnOutOfMemoryError \
        -Djava.awt.headless=true -Djava.net.preferIPv4Stack=true -Djava.io.tmpdir="$K_DIR" \
        -Dlog4j2.configurationFile="file:$CONF_DIR/log4j2.properties" \
        -cp "$(kafka_cp)" kafka.Kafka "$K_DIR/server.properties")
    STARTED+=("$name")
}

kafka_dist_ready() { [[ -f "$KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar" ]]; }
kafka_wait() { wait_until "$1" "$KAFKA_TIMEOUT" kafka_healthy "$1"; }
kafka_stop() { stop_proc_service "$1"; }
kafka_pid() { proc_pid "$1"; }

kafka_address() {
    kafka_instance "$1"
    echo "$HOST:$K_PORT plaintext, $HOST:$K_SASL_PORT sasl, $HOST:$K_CONTROLLER_PORT controller"
}

kafka_check() {
    if kafka_healthy "$1"; then say "$1" "ok"; else
        warn "$1" "no metadata from $HOST:$K_PORT / $HOST:$K_SASL_PORT"; return 1
    fi
}

# The client protocol and SASL mechanism are the same for both clusters, so they are written once.
kafka_env() {
    case $1 in
        kafka) cat <<ENV ;;
export KAFKA_BOOTSTRAP_SERVERS=$HOST:$KAFKA_PORT
export KAFKA_SECURITY_PROTOCOL=PLAINTEXT
export KAFKA_SASL_BOOTSTRAP_SERVERS=$HOST:$KAFKA_SASL_PORT
export KAFKA_SASL_MECHANISM=SCRAM-SHA-512
ENV
        kafka-prod) cat <<ENV ;;
export KAFKA_PROD_BOOTSTRAP_SERVERS=$HOST:$KAFKA_PROD_PORT
export KAFKA_PROD_SASL_BOOTSTRAP_SERVERS=$HOST:$KAFKA_PROD_SASL_PORT
ENV
        *) die "kafka_env: unknown broker '$1'" ;;
    esac
}
