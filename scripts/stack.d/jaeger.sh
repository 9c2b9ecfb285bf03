# shellcheck shell=bash
# scripts/stack.d/jaeger.sh - Jaeger v2 (the `jaeger` command of github.com/jaegertracing/jaeger): the tracing
# backend the portal's processes export to over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT points at it
# (`JAEGER=1 scripts/dev up`, and the trace tests). Traces are kept in memory only (jaeger.yaml).
#
# Built from the Go module proxy into $STACK_DIR/bin/jaeger, once per JAEGER_VERSION: a cold build takes about ten
# minutes on two cores, a rebuild with a warm Go build cache well under one. The module's go.mod has a replace
# directive, so `go install ...@version` refuses it: the build runs in the module's directory in the module cache.
#
# `scripts/stack up` (every service) does not wait for a cold build: it starts one in the background (which then
# starts Jaeger itself) and goes on; `scripts/stack up jaeger` builds in the foreground and starts it. The build
# takes no stack lock, so other `scripts/stack` commands are never held up by it.

JAEGER_VERSION=v1.75.0
JAEGER_MODULE=github.com/jaegertracing/jaeger
: "${JAEGER_OTLP_GRPC_PORT:=14317}" "${JAEGER_OTLP_HTTP_PORT:=14318}"
: "${JAEGER_UI_PORT:=17686}" "${JAEGER_QUERY_GRPC_PORT:=17685}" "${JAEGER_MAX_TRACES:=50000}"
export JAEGER_OTLP_GRPC_PORT JAEGER_OTLP_HTTP_PORT JAEGER_UI_PORT JAEGER_QUERY_GRPC_PORT JAEGER_MAX_TRACES
JAEGER_BIN="$STACK_DIR/bin/jaeger"
JAEGER_BUILD_TIMEOUT=$((3600 * T))
JAEGER_TIMEOUT=$((60 * T))

# jaeger_built : true if the binary of JAEGER_VERSION is in place.
jaeger_built() { [[ -x $JAEGER_BIN && "$(cat "$JAEGER_BIN.version" 2>/dev/null)" == "$JAEGER_VERSION" ]]; }

# jaeger_build_now : build the binary (one build at a time: a second caller waits for the first and finds it built).
jaeger_build_now() {
    local go dir build_dir started
    proc_dirs
    exec 8>"$PROC_RUN_DIR/jaeger-build.lock"
    flock -w "$JAEGER_BUILD_TIMEOUT" 8 || die "jaeger: another build did not finish within ${JAEGER_BUILD_TIMEOUT}s"
    if jaeger_built; then exec 8>&-; return 0; fi
    go=$(eventstore_go) || die "jaeger: Go is needed to build Jaeger (not on PATH, not /usr/local/go/bin/go; set GO)"
    say jaeger "building $JAEGER_MODULE $JAEGER_VERSION into $JAEGER_BIN (minutes on a cold Go cache)"
    started=$SECONDS
    dir=$("$go" mod download -json "$JAEGER_MODULE@$JAEGER_VERSION" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])') ||
        die "jaeger: go mod download $JAEGER_MODULE@$JAEGER_VERSION failed"
    mkdir -p "$STACK_DIR/bin"
    # Built beside the target and renamed into place, so that nobody ever starts a half-written binary.
    build_dir=$(mktemp -d "$STACK_DIR/bin/.jaeger-build.XXXXXX")
    # -mod=readonly: the module's own go.sum pins every dependency.
    if ! (cd "$dir" && timeout "$JAEGER_BUILD_TIMEOUT" "$go" build -mod=readonly -trimpath \
        -o "$build_dir/jaeger" ./cmd/jaeger); then
        rm -rf "$build_dir"
        die "jaeger: go build of $JAEGER_MODULE/cmd/jaeger $JAEGER_VERSION failed"
    fi
    mv -f "$build_dir/jaeger" "$JAEGER_BIN"
    rm -rf "$build_dir"
    echo "$JAEGER_VERSION" >"$JAEGER_BIN.version"
    say jaeger "built in $((SECONDS - started))s"
    exec 8>&-
}

# jaeger_build NAME EXPLICIT : before the stack lock (cmd_up). Named on the command line (EXPLICIT=1): build now.
# Brought up with every service: leave a cold build to a background `scripts/stack up jaeger`.
jaeger_build() {
    local name=$1 explicit=$2
    jaeger_built && return 0
    if ((explicit)); then jaeger_build_now; return; fi
    proc_dirs
    if proc_running jaeger-build; then
        say "$name" "still building in the background (log: $(proc_logfile jaeger-build))"
    elif ! (flock -n 8) 8>"$PROC_RUN_DIR/jaeger-build.lock"; then
        # Only `scripts/stack up jaeger` builds (it holds this lock), and it starts Jaeger when the build is done.
        say "$name" "being built by another 'scripts/stack up jaeger', which starts it"
    else
        proc_start jaeger-build jaeger-build.log "$SCRIPTS_DIR/stack" up jaeger
        say "$name" "building in the background, then starting (log: $(proc_logfile jaeger-build))"
    fi
}

jaeger_start() {
    local name=$1
    if proc_running "$name"; then
        say "$name" "already running, query API and UI on http://$HOST:$JAEGER_UI_PORT/ (pid $(proc_pid "$name"))"
        return 0
    fi
    jaeger_built || return 0  # a background build starts it when it is done
    check_port_free "$name" "$JAEGER_OTLP_GRPC_PORT" "$JAEGER_OTLP_HTTP_PORT" "$JAEGER_UI_PORT" "$JAEGER_QUERY_GRPC_PORT"
    say "$name" "starting on $HOST:$JAEGER_OTLP_GRPC_PORT (OTLP gRPC), $HOST:$JAEGER_OTLP_HTTP_PORT (OTLP HTTP)," \
        "http://$HOST:$JAEGER_UI_PORT/ (query API and UI)"
    (cd "$STACK_DIR" && proc_start "$name" "$name.log" "$JAEGER_BIN" --config "file:$CONF_DIR/jaeger.yaml")
    STARTED+=("$name")
}

# jaeger_ping : the query API answers (it lists the services that sent spans).
jaeger_ping() { curl -fsS -o /dev/null --max-time 3 "http://$HOST:$JAEGER_UI_PORT/api/services"; }

jaeger_wait() { wait_until "$1" "$JAEGER_TIMEOUT" jaeger_ping; }
jaeger_stop() { stop_proc_service "$1"; }
jaeger_pid() { proc_pid "$1"; }

jaeger_address() {
    local building=""
    proc_running jaeger-build && building=" (building)"
    echo "http://$HOST:$JAEGER_UI_PORT (query API, UI), $HOST:$JAEGER_OTLP_GRPC_PORT OTLP gRPC," \
        "$HOST:$JAEGER_OTLP_HTTP_PORT OTLP HTTP$building"
}

jaeger_check() {
    if jaeger_ping >/dev/null 2>&1; then say "$1" "ok"; else
        warn "$1" "no answer from the query API on http://$HOST:$JAEGER_UI_PORT/api/services"; return 1
    fi
}

# Where the portal's processes send spans (scripts/dev, JAEGER=1) and where tests read them back.
jaeger_env() {
    echo "export JAEGER_OTLP_ENDPOINT=http://$HOST:$JAEGER_OTLP_GRPC_PORT"
    echo "export JAEGER_QUERY_URL=http://$HOST:$JAEGER_UI_PORT"
}
