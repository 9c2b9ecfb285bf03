# shellcheck shell=bash
# scripts/stack.d/redis.sh - Redis, the Celery broker.

: "${REDIS_PORT:=16379}"
REDIS_DIR="$STACK_DIR/redis"
REDIS_TIMEOUT=$((30 * T))

# redis_ping : a real PING round trip; an open port alone is also true while Redis still loads its AOF.
redis_ping() (
    exec 3<>"/dev/tcp/$HOST/$REDIS_PORT" || exit 1
    printf 'PING\r\n' >&3
    IFS= read -r -t 2 reply <&3 || reply=
    [[ "$reply" == "+PONG"* ]]
)

redis_packages() { command -v redis-server >/dev/null || echo redis-server; }

redis_start() {
    if proc_running redis; then say redis "already running on $HOST:$REDIS_PORT (pid $(proc_pid redis))"; return 0; fi
    check_port_free redis "$REDIS_PORT"
    mkdir -p "$REDIS_DIR"
    render "$CONF_DIR/redis.conf.template" "$REDIS_DIR/redis.conf" \
        HOST="$HOST" REDIS_PORT="$REDIS_PORT" REDIS_DIR="$REDIS_DIR"
    say redis "starting on $HOST:$REDIS_PORT"
    (cd "$REDIS_DIR" && proc_start redis redis.log redis-server "$REDIS_DIR/redis.conf")
    STARTED+=(redis)
}

redis_wait() { wait_until redis "$REDIS_TIMEOUT" redis_ping; }
redis_stop() { stop_proc_service redis; }
redis_pid() { proc_pid redis; }
redis_address() { echo "$HOST:$REDIS_PORT"; }

redis_check() {
    if redis_ping; then say redis "ok"; else warn redis "no PONG on $HOST:$REDIS_PORT"; return 1; fi
}

redis_env() { echo "export REDIS_URL=redis://$HOST:$REDIS_PORT/0"; }
