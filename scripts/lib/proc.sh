# shellcheck shell=bash
# scripts/lib/proc.sh - pid-file based process management for the local stack.
#
# Source it from bash scripts (scripts/stack, scripts/dev):
#     . "$(dirname "$0")/lib/proc.sh"
#
# Layout (STACK_DIR defaults to <repo>/.stack, repo = parent of scripts/):
#     $STACK_DIR/run/NAME.pid    pid of the service's main process (nothing else)
#     $STACK_DIR/run/NAME.start  its start time (/proc/PID/stat field 22), to detect pid reuse
#     $STACK_DIR/run/NAME.logf   path of the service's log file
#     $STACK_DIR/logs/NAME.log   default log file
#
# Each service is started in its own session (setsid), so it owns a process
# group whose id is the pid in its pid file.  proc_stop only ever signals that
# pid, and afterwards that pid's own process group (children it left behind,
# e.g. Django's autoreloader child); never anything found by name.
#
# Nothing here calls `exit` or relies on `set -e`; functions return non-zero on
# failure so the caller decides.

if [[ -n "${_PROC_SH_LOADED:-}" ]]; then return 0; fi
_PROC_SH_LOADED=1

: "${STACK_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.stack}"
export STACK_DIR
PROC_RUN_DIR="$STACK_DIR/run"
PROC_LOG_DIR="$STACK_DIR/logs"

# say NAME MESSAGE... : print "NAME: MESSAGE" on stdout (the one message format of the stack scripts).
say() { local who=$1; shift; printf '%s: %s\n' "$who" "$*"; }

# warn NAME MESSAGE... : like say, on stderr.
warn() { local who=$1; shift; printf '%s: %s\n' "$who" "$*" >&2; }

# proc_dirs : create $STACK_DIR/run and $STACK_DIR/logs if missing.
proc_dirs() { mkdir -p "$PROC_RUN_DIR" "$PROC_LOG_DIR"; }

# proc_pidfile NAME : print the path of NAME's pid file.
proc_pidfile() { printf '%s/%s.pid\n' "$PROC_RUN_DIR" "$1"; }

# proc_logfile NAME : print the path of NAME's log (as recorded by proc_start, else $STACK_DIR/logs/NAME.log).
proc_logfile() {
    local f="$PROC_RUN_DIR/$1.logf"
    if [[ -s "$f" ]]; then cat "$f"; else printf '%s/%s.log\n' "$PROC_LOG_DIR" "$1"; fi
}

# _proc_stat PID N : print field N of /proc/PID/stat (N >= 3; the command name may contain spaces).
_proc_stat() { sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk -v n="$(($2 - 2))" '{print $n}'; }

# _proc_alive PID : true if PID exists and is not a zombie.
_proc_alive() {
    local pid=$1 state
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    state=$(_proc_stat "$pid" 3)
    [[ "$state" != Z ]]
}

# _group_alive PGID : true if a live (non-zombie) process other than ourselves is in process group PGID.
_group_alive() {
    ps -e -o pgid=,stat=,pid= 2>/dev/null | awk -v g="$1" -v me="$$" '$1 == g && $2 !~ /^Z/ && $3 != me { f = 1 } END { exit !f }'
}

# proc_pid NAME : print NAME's pid if its pid file names a live process; non-zero otherwise.
proc_pid() {
    local f pid
    f=$(proc_pidfile "$1")
    [[ -s "$f" ]] || return 1
    read -r pid <"$f" || true
    _proc_alive "$pid" || return 1
    # Guard against pid reuse (e.g. after a reboot): the start time recorded by proc_start must match.
    local st="$PROC_RUN_DIR/$1.start" want
    if [[ -s "$st" ]]; then
        read -r want <"$st" || true
        [[ "$(_proc_stat "$pid" 22)" == "$want" ]] || return 1
    fi
    printf '%s\n' "$pid"
}

# proc_running NAME : true if NAME was started by proc_start and is still alive.
proc_running() { proc_pid "$1" >/dev/null; }

# proc_start NAME LOGFILE CMD [ARGS...] : start CMD in the background in a new session, stdin from /dev/null,
# stdout+stderr appended to LOGFILE (relative names go under $STACK_DIR/logs/); writes $STACK_DIR/run/NAME.pid.
# The working directory is inherited: use `(cd DIR && proc_start ...)` to change it.
proc_start() {
    local name=$1 log=$2; shift 2
    if (($# == 0)); then warn "$name" "proc_start: no command given"; return 2; fi
    proc_dirs
    if proc_running "$name"; then
        warn "$name" "already running (pid $(proc_pid "$name"))"
        return 0
    fi
    [[ "$log" == /* ]] || log="$PROC_LOG_DIR/$log"
    mkdir -p "$(dirname "$log")"
    local pidf i
    pidf=$(proc_pidfile "$name")
    rm -f "$pidf" "$PROC_RUN_DIR/$name.start"
    printf '%s\n' "$log" >"$PROC_RUN_DIR/$name.logf"
    printf '\n===== %s starting %s: %s\n' "$(date '+%F %T')" "$name" "$*" >>"$log"
    # The inner bash writes its own pid and then execs the command, so the pid file holds the pid of
    # the service itself whether or not setsid had to fork.
    # Descriptors above 2 (e.g. a caller's flock) are closed so the service does not hold them.
    # shellcheck disable=SC2016
    setsid bash -c 'for fd in /proc/$$/fd/*; do fd=${fd##*/}; ((fd > 2)) && eval "exec $fd>&-"; done
        echo $$ >"$0.tmp" && mv -f "$0.tmp" "$0" && exec "$@"' "$pidf" "$@" \
        </dev/null >>"$log" 2>&1 &
    local pid
    for ((i = 0; i < 100; i++)); do
        if [[ -s "$pidf" ]]; then
            read -r pid <"$pidf" || true
            _proc_stat "$pid" 22 >"$PROC_RUN_DIR/$name.start" || true
            return 0
        fi
        sleep 0.05
    done
    warn "$name" "did not write its pid file $pidf"
    return 1
}

# proc_stop NAME [TIMEOUT_SECONDS=30] : SIGTERM the pid in NAME's pid file, wait, SIGKILL if still alive,
# then clean up leftovers in its own process group and remove the pid file. Returns 0 if it was not running.
proc_stop() {
    local name=$1 timeout=${2:-30} pid pgid i
    local pidf
    pidf=$(proc_pidfile "$name")
    if ! pid=$(proc_pid "$name"); then
        rm -f "$pidf" "$PROC_RUN_DIR/$name.start"
        return 0
    fi
    pgid=$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < timeout * 10; i++)); do
        _proc_alive "$pid" || break
        sleep 0.1
    done
    if _proc_alive "$pid"; then
        warn "$name" "still alive after ${timeout}s, sending SIGKILL to $pid"
        kill -KILL "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do _proc_alive "$pid" || break; sleep 0.1; done
    fi
    # Only when the service leads its own group (setsid): children it left behind.
    if [[ "$pgid" == "$pid" ]] && _group_alive "$pgid"; then
        kill -TERM -- "-$pgid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do _group_alive "$pgid" || break; sleep 0.1; done
        _group_alive "$pgid" && kill -KILL -- "-$pgid" 2>/dev/null
    fi
    rm -f "$pidf" "$PROC_RUN_DIR/$name.start"
    _proc_alive "$pid" && return 1
    return 0
}

# proc_tail NAME [LINES=40] : print the last LINES lines of NAME's log on stderr.
proc_tail() {
    local name=$1 n=${2:-40} log
    log=$(proc_logfile "$name")
    if [[ -f "$log" ]]; then
        printf -- '----- last %s lines of %s -----\n' "$n" "$log" >&2
        tail -n "$n" "$log" >&2
        printf -- '----- end of %s -----\n' "$log" >&2
    else
        printf -- '----- no log file %s -----\n' "$log" >&2
    fi
}

# wait_until NAME TIMEOUT_SECONDS CHECK_CMD [ARGS...] : run CHECK_CMD every 0.5s until it succeeds; on timeout,
# or as soon as NAME's pid-file process dies, print the last 40 lines of NAME's log on stderr and return 1.
wait_until() {
    local name=$1 timeout=$2; shift 2
    local deadline=$((SECONDS + timeout)) had_pid=0
    [[ -s "$(proc_pidfile "$name")" ]] && had_pid=1
    while :; do
        if "$@" >/dev/null 2>&1; then return 0; fi
        if ((had_pid)) && ! proc_running "$name"; then
            warn "$name" "process exited while waiting for it to become healthy"
            proc_tail "$name" 40
            return 1
        fi
        if ((SECONDS >= deadline)); then
            warn "$name" "not healthy after ${timeout}s (check: $*)"
            proc_tail "$name" 40
            return 1
        fi
        sleep 0.5
    done
}
