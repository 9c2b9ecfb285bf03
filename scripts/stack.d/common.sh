# shellcheck shell=bash
# scripts/stack.d/common.sh - settings and helpers that more than one service file uses.
# Sourced by scripts/stack before the service files, after scripts/lib/proc.sh.

# Loopback only: the stack is for this machine's tests and developers, never for the network.
HOST=127.0.0.1

# Shared by kafka.sh, connect.sh and registry.sh: one Maven run fetches all their distributions (see fetch_dist).
: "${STACK_DIST_DIR:=$STACK_DIR/dist}"
: "${JAVA:=java}"

# Health-check timeouts in seconds are multiples of this scale, so a slow machine can stretch them all at once.
# shellcheck disable=SC2034 # used by the service files
T=${STACK_TIMEOUT:-1}

die() { printf 'stack: %s\n' "$*" >&2; exit 1; }

# render TEMPLATE OUT KEY=VALUE... : copy TEMPLATE to OUT replacing @KEY@ with VALUE.
render() {
    local tpl=$1 out=$2 kv k v content; shift 2
    content=$(<"$tpl")
    for kv in "$@"; do
        k=${kv%%=*} v=${kv#*=}
        content=${content//@$k@/$v}
    done
    printf '%s\n' "$content" >"$out.tmp"
    mv -f "$out.tmp" "$out"
}

# tcp_open PORT : true if something accepts TCP connections on $HOST:PORT.
tcp_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# check_port_free NAME PORT... : die if a PORT is taken although NAME is not running.
check_port_free() {
    local name=$1 port
    shift
    for port in "$@"; do
        if tcp_open "$port"; then
            die "$name: port $HOST:$port is already in use by another process (set the *_PORT env vars to move it)"
        fi
    done
}

# apt_install PACKAGE... : install the Debian packages the selected services lack, in one apt-get run.
apt_install() {
    (($#)) || return 0
    [[ $(id -u) == 0 ]] || die "missing packages $*: run as root or install them"
    say stack "installing $* (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=900 update -qq
    apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "$@" >/dev/null
    # The Debian package starts its own cluster/server on the default ports; we don't use them.
}

# fetch_dist : fetch Kafka (broker, Connect runtime, tools), the Connect plugins and Apicurio Registry from Maven
# Central into $STACK_DIST_DIR. stack.d/pom.xml resolves all in one run, so this runs when one is missing; its
# versions must match KAFKA_VERSION (kafka.sh), MONGO_SINK_VERSION (connect.sh) and APICURIO_VERSION (registry.sh).
fetch_dist() {
    command -v mvn >/dev/null || die "mvn is needed to fetch Kafka/Apicurio from Maven Central"
    say stack "fetching Kafka $KAFKA_VERSION, mongo-kafka-connect $MONGO_SINK_VERSION and Apicurio Registry $APICURIO_VERSION into $STACK_DIST_DIR (mvn)"
    (cd "$CONF_DIR" && mvn -B -q -Dstyle.color=never -Ddist.dir="$STACK_DIST_DIR" package) || die "mvn package failed"
    if ! { kafka_dist_ready && connect_dist_ready && registry_dist_ready; }; then
        die "mvn package did not produce $KAFKA_LIBS, $CONNECT_PLUGINS and $APICURIO_HOME"
    fi
}

# stop_proc_service NAME : stop a service that proc_start launched. A stale pid file is removed so that
# status does not keep pointing at a pid that may have been reused.
stop_proc_service() {
    local name=$1
    if proc_running "$name"; then
        say "$name" "stopping (pid $(proc_pid "$name"))"
        proc_stop "$name" 60 || die "$name: could not be stopped"
    else
        say "$name" "not running"
        rm -f "$(proc_pidfile "$name")"
    fi
}
