# shellcheck shell=bash
# scripts/stack.d/connect.sh - a Kafka Connect worker in distributed mode on the dev cluster (kafka), with the
# MongoDB sink connector on its plugin path; its REST API is CONNECT_URL. It runs Kafka's own Connect runtime from
# the libs that kafka.sh's Maven fetch puts in place (stack.d/pom.xml).
#
# The worker connects on the SASL listener as its own SCRAM principal, $CONNECT_USER, whose password is made once
# and kept in $STACK_DIR/connect_kafka_password. Before the worker starts, this file gives that principal exactly
# what a worker needs: its internal topics (prefix _portal.connect-: create, read, write, describe configs), its
# group (portal-connect) and the groups of sink connectors (prefix connect-: read). The topics a connector reads or
# writes are not granted here: the portal's reconciler grants them per connector.

: "${CONNECT_PORT:=18083}"
: "${CONNECT_HEAP_OPTS:=-Xms128m -Xmx512m}"
CONNECT_USER=portal-connect
CONNECT_GROUP=portal-connect
CONNECT_TOPIC_PREFIX=_portal.connect-
# Kafka Connect names a sink connector's consumer group connect-<connector name>.
CONNECT_SINK_GROUP_PREFIX=connect-
CONNECT_DIR="$STACK_DIR/connect"
CONNECT_PLUGINS="$STACK_DIST_DIR/connect-plugins"
MONGO_SINK_VERSION=2.0.1
MONGO_SINK_CLASS=com.mongodb.kafka.connect.MongoSinkConnector
# The project's own plugins: the JVM module aggregator/ provides a registry-aware converter; when it has been built,
# its jars are linked into a plugin directory here on every start of the worker.
CONNECT_PROJECT_PLUGINS="$CONNECT_DIR/project-plugins"
CONNECT_PROJECT_JARS="$REPO_DIR/aggregator/target"
# Scanning the plugin path makes the first REST answer take a while on two cores.
CONNECT_TIMEOUT=$((180 * T))

connect_needs() { echo kafka; }
connect_url() { echo "http://$HOST:$CONNECT_PORT"; }

connect_dist_ready() {
    [[ -f "$KAFKA_LIBS/connect-runtime-$KAFKA_VERSION.jar" && -f "$KAFKA_LIBS/kafka-tools-$KAFKA_VERSION.jar" &&
        -f "$CONNECT_PLUGINS/mongo-kafka-connect-$MONGO_SINK_VERSION-all.jar" ]]
}

# connect_password : print the worker's Kafka password, made on first use (letters and digits only: it goes into
# a JAAS line and a kafka-configs value).
connect_password() {
    local f="$STACK_DIR/connect_kafka_password" pw
    if [[ ! -s $f ]]; then
        pw=$(LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c 32 || true)
        (umask 077 && printf '%s\n' "$pw" >"$f.tmp") && mv -f "$f.tmp" "$f"
    fi
    cat "$f"
}

# connect_kafka_tool CLASS ARGS... : run one of Kafka's command line tools as the admin (PLAINTEXT listener, super user).
connect_kafka_tool() {
    local cls=$1
    shift
    "$JAVA" -Xmx256m -Dlog4j2.configurationFile="file:$CONF_DIR/log4j2.properties" -cp "$(kafka_cp)" \
        "$cls" --bootstrap-server "$HOST:$KAFKA_PORT" "$@" >>"$PROC_LOG_DIR/connect.log" 2>&1
}

# connect_provision : the worker principal's SCRAM credential and ACLs (idempotent; needs the dev broker up).
connect_provision() {
    local principal="User:$CONNECT_USER"
    connect_kafka_tool kafka.admin.ConfigCommand --alter --entity-type users --entity-name "$CONNECT_USER" \
        --add-config "SCRAM-SHA-512=[iterations=4096,password=$(connect_password)]" ||
        { proc_tail connect; die "connect: could not set the SCRAM credential of $CONNECT_USER"; }
    # Read and write imply describe; describe configs lets the worker check that its topics are compacted.
    connect_kafka_tool org.apache.kafka.tools.AclCommand --add --allow-principal "$principal" \
        --operation Create --operation Read --operation Write --operation DescribeConfigs \
        --topic "$CONNECT_TOPIC_PREFIX" --resource-pattern-type prefixed ||
        { proc_tail connect; die "connect: could not grant $principal its internal topics"; }
    connect_kafka_tool org.apache.kafka.tools.AclCommand --add --allow-principal "$principal" \
        --operation Read --group "$CONNECT_GROUP" --resource-pattern-type literal ||
        { proc_tail connect; die "connect: could not grant $principal its group"; }
    connect_kafka_tool org.apache.kafka.tools.AclCommand --add --allow-principal "$principal" \
        --operation Read --group "$CONNECT_SINK_GROUP_PREFIX" --resource-pattern-type prefixed ||
        { proc_tail connect; die "connect: could not grant $principal the sink connectors' groups"; }
}

# connect_link_project_plugins : aggregator/target/*.jar (when built), with MongoDB's connector jar, as the plugin
# directory "aggregator"; only the
# shaded aggregator.jar when there is one, since the plain jar beside it holds the same classes without their
# dependencies. The jars are copied, not linked: the worker loads classes from them lazily for as long as it runs,
# and a build of the module (scripts/aggregator) rewrites target/aggregator.jar in place meanwhile. A restart of
# the worker (scripts/stack up connect) takes the newest build.
connect_link_project_plugins() {
    local jar jars=() pattern="*.jar"
    rm -rf "$CONNECT_PROJECT_PLUGINS"
    mkdir -p "$CONNECT_PROJECT_PLUGINS"
    [[ -f "$CONNECT_PROJECT_JARS/aggregator.jar" ]] && pattern=aggregator.jar
    for jar in "$CONNECT_PROJECT_JARS"/$pattern; do
        [[ -f $jar ]] || continue
        # Maven's leftovers beside the shaded jar would only load the same classes twice.
        case ${jar##*/} in original-* | *-sources.jar | *-javadoc.jar | *-tests.jar) continue ;; esac
        jars+=("$jar")
    done
    ((${#jars[@]})) || return 0
    # The event store's sink (EventStoreSinkConnector) extends MongoDB's connector, so MongoDB's jar must be in
    # the same plugin directory: each directory has a class loader of its own.
    jars+=("$CONNECT_PLUGINS"/mongo-kafka-connect-*-all.jar)
    mkdir -p "$CONNECT_PROJECT_PLUGINS/aggregator"
    cp "${jars[@]}" "$CONNECT_PROJECT_PLUGINS/aggregator/"
    say connect "project plugins: ${jars[*]##*/}"
}

connect_start() {
    local name=$1
    if proc_running "$name"; then
        say "$name" "already running on $(connect_url) (pid $(proc_pid "$name"))"
        return 0
    fi
    check_port_free "$name" "$CONNECT_PORT"
    proc_dirs
    # The principal is provisioned through the broker, so the worker waits for it (kafka may be starting with it).
    kafka_healthy kafka || kafka_wait kafka || die "$name: the kafka broker is not healthy"
    say "$name" "provisioning principal $CONNECT_USER (SCRAM credential, ACLs)"
    connect_provision
    mkdir -p "$CONNECT_DIR/tmp"
    connect_link_project_plugins
    (umask 077 && render "$CONF_DIR/connect-distributed.properties.template" "$CONNECT_DIR/worker.properties" \
        HOST="$HOST" CONNECT_PORT="$CONNECT_PORT" BOOTSTRAP="$HOST:$KAFKA_SASL_PORT" USER="$CONNECT_USER" \
        PASSWORD="$(connect_password)" PLUGIN_PATH="$CONNECT_PLUGINS,$CONNECT_PROJECT_PLUGINS")
    say "$name" "starting on $(connect_url) (group $CONNECT_GROUP on $HOST:$KAFKA_SASL_PORT as $CONNECT_USER)"
    # shellcheck disable=SC2086
    (cd "$CONNECT_DIR" && proc_start "$name" "$name.log" "$JAVA" $CONNECT_HEAP_OPTS \
        -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError \
        -Djava.awt.headless=true -Djava.net.preferIPv4Stack=true -Djava.io.tmpdir="$CONNECT_DIR/tmp" \
        -Dlog4j2.configurationFile="file:$CONF_DIR/connect-log4j2.properties" \
        -cp "$(kafka_cp)" org.apache.kafka.connect.cli.ConnectDistributed "$CONNECT_DIR/worker.properties")
    STARTED+=("$name")
}

# connect_healthy : the REST API answers and the MongoDB sink is among the installed plugins.
connect_healthy() {
    [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$(connect_url)/") == 200 ]] &&
        curl -sf --max-time 5 "$(connect_url)/connector-plugins" | grep -q "\"$MONGO_SINK_CLASS\""
}

connect_wait() { wait_until "$1" "$CONNECT_TIMEOUT" connect_healthy; }
connect_stop() { stop_proc_service "$1"; }
connect_pid() { proc_pid "$1"; }
connect_address() { echo "$(connect_url) (worker group $CONNECT_GROUP, principal $CONNECT_USER)"; }

connect_check() {
    if connect_healthy; then say "$1" "ok"; else
        warn "$1" "GET $(connect_url)/ does not answer, or /connector-plugins lacks $MONGO_SINK_CLASS"; return 1
    fi
}

connect_env() {
    cat <<ENV
export CONNECT_URL=$(connect_url)
export CONNECT_KAFKA_USERNAME=$CONNECT_USER
ENV
}
