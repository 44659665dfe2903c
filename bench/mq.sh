#!/usr/bin/env bash
# bench/mq.sh: onebox's AMQP broker against the real rabbitmq-server, side
# by side.
#
#   1. throughput: bin/mq_perf (bench/mq_perf.c, rabbitmq-c) publishes
#      COUNT messages through the default exchange to one queue and one
#      consumer (prefetch 1000, an ack with `multiple` every 100) takes
#      them, end to end, in each case of the matrix
#         transient (delivery-mode 1, non-durable queue, no confirms)
#         persistent (delivery-mode 2, durable queue, publisher confirms
#                     pipelined with a window of WINDOW per producer)
#       x 1 and 4 producers (each its own connection)
#       x 16-byte and 4 KiB bodies,
#      against onebox and rabbitmq-server, both running, taking turns case
#      by case, ROUNDS times (the median is reported).  Printed: messages/s
#      published and consumed (end to end: from the start to the last
#      delivery) for both, and onebox's ratio; every run checks each
#      producer's sequence numbers, so a lost or duplicated message shows
#      (and fails the run);
#   2. server CPU per message: the server's user + system time during each
#      run (from /proc/<pid>/stat; the Erlang VM's for rabbitmq) divided by
#      the messages of that run;
#   3. memory per queued message: QUEUED 16-byte transient messages are
#      published to a queue nobody consumes, on a fresh queue, and the
#      growth of the server's resident memory is divided by their number.
#
# The goal (issue 9): onebox >= 3x rabbitmq in every case, with nothing
# lost or duplicated.  On a machine with two or more cores the servers are
# pinned to CPU 0 and the load generator to CPU 1 (taskset).  Servers bind
# 127.0.0.1 on free ports, keep their data in a temporary directory and
# are stopped by PID (rabbitmq through rabbitmqctl shutdown, then by its
# VM's PID).  Builds bin/onebox and bin/mq_perf; needs rabbitmq-server and
# librabbitmq-dev (make deps installs them).
#
# Usage: bench/mq.sh [COUNT] [QUEUED] [ROUNDS]   (defaults 200000, 200000, 1)
# WINDOW=n sets the confirm window (default 1000); PERF_TIMEOUT=s bounds
# each run (default 120: a run that has not ended by then fails).
#
# mq_perf writes its publishes in 64 KiB batches (one system call for many
# messages, as RabbitMQ's PerfTest does) so that the client is not the
# bottleneck; with two cores the client's producers and consumer still
# share one, which caps the 4-producer 4 KiB cases.
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT=${1:-200000}
QUEUED=${2:-200000}
ROUNDS=${3:-1}
WINDOW=${WINDOW:-1000}
PERF_TIMEOUT=${PERF_TIMEOUT:-120}
MEM_MB=2048
PY=/usr/bin/python3
RABBIT_SBIN=/usr/lib/rabbitmq/bin

[ -x "$RABBIT_SBIN/rabbitmq-server" ] || {
    echo "bench/mq.sh needs rabbitmq-server: make deps" >&2; exit 2; }
[ -f /usr/include/amqp.h ] || {
    echo "bench/mq.sh needs librabbitmq-dev: make deps" >&2; exit 2; }
make --no-print-directory all bin/mq_perf >/dev/null

SERVER_CPU=(); LOAD_CPU=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
    SERVER_CPU=(taskset -c 0); LOAD_CPU=(taskset -c 1)
fi

WORK=$(mktemp -d /tmp/bench-mq.XXXXXX)
PIDS=()
RABBIT_ENV=()
cleanup() {
    if [ ${#RABBIT_ENV[@]} -gt 0 ]; then
        env "${RABBIT_ENV[@]}" "$RABBIT_SBIN/rabbitmqctl" shutdown \
            >/dev/null 2>&1 || true
    fi
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
    $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# A port for Erlang distribution: free on the wildcard address too.
free_dist_port() {
    $PY -c 'import socket; s=socket.socket(); s.bind(("0.0.0.0",0)); print(s.getsockname()[1])'
}

wait_port() {
    for _ in $(seq 600); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "nothing listens on port $1" >&2; exit 1
}

cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
TICKS_PER_SEC=$(getconf CLK_TCK)
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# Every onebox module but mq is switched off.
ONEBOX_OFF=()
for section in $(bin/onebox --print-config \
                 | $PY -c 'import json,sys; print(" ".join(json.load(sys.stdin)))'); do
    case $section in core|mq) ;; *) ONEBOX_OFF+=("--$section.enabled" false) ;; esac
done

# start_onebox PORT: sets ONEBOX_PID (the server itself).
start_onebox() {
    mkdir -p "$WORK/onebox"
    "${SERVER_CPU[@]}" bin/onebox --core.http_port 0 \
        --core.memory_mb "$MEM_MB" --core.data_dir "$WORK/onebox" \
        "${ONEBOX_OFF[@]}" --mq.port "$1" >"$WORK/onebox.log" 2>&1 &
    ONEBOX_PID=$!
    PIDS+=("$ONEBOX_PID")
    wait_port "$1"
}

# start_rabbit PORT: sets RABBIT_PID (the Erlang VM under the script);
# each start has a node and directories of its own.
RABBIT_RUNS=0
start_rabbit() {
    local d script dist
    RABBIT_RUNS=$((RABBIT_RUNS + 1))
    d=$WORK/rabbit-$RABBIT_RUNS
    mkdir -p "$d/mnesia" "$d/log" "$d/home"
    echo '[].' >"$d/enabled_plugins"
    dist=$(free_dist_port)
    RABBIT_ENV=(HOME="$d/home" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
        RABBITMQ_NODE_PORT="$1" RABBITMQ_NODENAME="bench-mq-$$-$RABBIT_RUNS@localhost"
        RABBITMQ_MNESIA_BASE="$d/mnesia" RABBITMQ_LOG_BASE="$d/log"
        RABBITMQ_ENABLED_PLUGINS_FILE="$d/enabled_plugins"
        RABBITMQ_DIST_PORT="$dist" ERL_EPMD_ADDRESS=127.0.0.1)
    env "${RABBIT_ENV[@]}" "${SERVER_CPU[@]}" "$RABBIT_SBIN/rabbitmq-server" \
        >"$d/server.out" 2>&1 &
    script=$!
    PIDS+=("$script")
    wait_port "$1"
    RABBIT_PID=
    for kid in $(cat "/proc/$script/task/$script/children"); do
        if grep -q '^beam' "/proc/$kid/comm" 2>/dev/null; then
            RABBIT_PID=$kid
        fi
    done
    [ -n "$RABBIT_PID" ] || { echo "no Erlang VM under rabbitmq-server" >&2; exit 1; }
}

# stop_servers: onebox by PID, rabbitmq through rabbitmqctl (its VM's PID
# if that fails).
stop_servers() {
    kill -TERM "$ONEBOX_PID" 2>/dev/null || true
    wait "$ONEBOX_PID" 2>/dev/null || true
    env "${RABBIT_ENV[@]}" "$RABBIT_SBIN/rabbitmqctl" shutdown >/dev/null 2>&1 \
        || kill -KILL "$RABBIT_PID" 2>/dev/null || true
    RABBIT_ENV=()
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    PIDS=()
}

# perf PORT ARGS...: one mq_perf run; prints its key=value line.
perf() {
    local port=$1; shift
    timeout $((PERF_TIMEOUT + 60)) "${LOAD_CPU[@]}" bin/mq_perf -p "$port" \
        -t "$PERF_TIMEOUT" "$@" 2>>"$WORK/perf.err" || true
}

# field NAME LINE: the value of NAME=... in a mq_perf line.
field() { tr ' ' '\n' <<<"$2" | awk -F= -v k="$1" '$1 == k { print $2 }'; }

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "starting onebox and rabbitmq-server (rabbitmq takes ~10 s)..."
OB_PORT=$(free_port); start_onebox "$OB_PORT"
RB_PORT=$(free_port); start_rabbit "$RB_PORT"
declare -A PORT=([onebox]=$OB_PORT [rabbitmq]=$RB_PORT)
declare -A SPID=([onebox]=$ONEBOX_PID [rabbitmq]=$RABBIT_PID)
TARGETS=(onebox rabbitmq)

CASES=()
for mode in transient persistent; do
    for producers in 1 4; do
        for size in 16 4096; do
            CASES+=("$mode:$producers:$size")
        done
    done
done

declare -A PUB CON CPU BAD
for case in "${CASES[@]}"; do
    IFS=: read -r mode producers size <<<"$case"
    args=(-P "$producers" -n $((COUNT / producers)) -s "$size"
          -q "bench-$mode")
    [ "$mode" = persistent ] && args+=(-d -w "$WINDOW")
    for round in $(seq "$ROUNDS"); do
        for target in "${TARGETS[@]}"; do
            pid=${SPID[$target]}
            t0=$(cpu_ticks "$pid")
            line=$(perf "${PORT[$target]}" "${args[@]}")
            t1=$(cpu_ticks "$pid")
            total=$(field published "$line")
            PUB[$case,$target]+="$(field publish_rate "$line") "
            CON[$case,$target]+="$(field consume_rate "$line") "
            CPU[$case,$target]+="$(( (t1 - t0) * 1000000000 / TICKS_PER_SEC / (${total:-0} > 0 ? total : 1) )) "
            if [ -z "$line" ] || [ "$(field failed "$line")" != 0 ] \
               || [ "$(field lost "$line")" != 0 ] || [ "$(field dup "$line")" != 0 ] \
               || [ "$(field nacked "$line")" != 0 ]; then
                BAD[$case,$target]+="round $round: ${line:-no output} "
            fi
        done
    done
done

# Memory per queued message: a queue nobody consumes, on fresh servers
# (so that memory the runs above freed is not reused).
stop_servers
rm -rf "$WORK/onebox"
OB_PORT=$(free_port); start_onebox "$OB_PORT"
RB_PORT=$(free_port); start_rabbit "$RB_PORT"
PORT=([onebox]=$OB_PORT [rabbitmq]=$RB_PORT)
SPID=([onebox]=$ONEBOX_PID [rabbitmq]=$RABBIT_PID)
declare -A PER_MSG
for target in "${TARGETS[@]}"; do
    pid=${SPID[$target]}
    before=$(rss_kb "$pid")
    line=$(perf "${PORT[$target]}" -P 1 -n "$QUEUED" -s 16 -k -q bench-memory)
    sleep 1
    after=$(rss_kb "$pid")
    PER_MSG[$target]=$(( (after - before) * 1024 / QUEUED ))
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
m() { tr ' ' '\n' <<<"$1" | grep . | median; }

printf '\n%-22s %12s %12s %7s %12s %12s %7s %10s %10s\n' "case (mode:prod:size)" \
       "onebox pub/s" "rabbit pub/s" "ratio" "onebox e2e/s" "rabbit e2e/s" \
       "ratio" "ob ns/msg" "rb ns/msg"
fail=0
for case in "${CASES[@]}"; do
    op=$(m "${PUB[$case,onebox]}"); rp=$(m "${PUB[$case,rabbitmq]}")
    oc=$(m "${CON[$case,onebox]}"); rc=$(m "${CON[$case,rabbitmq]}")
    printf '%-22s %12s %12s %7s %12s %12s %7s %10s %10s\n' "$case" \
        "$op" "$rp" "$(ratio "$op" "$rp")" "$oc" "$rc" "$(ratio "$oc" "$rc")" \
        "$(m "${CPU[$case,onebox]}")" "$(m "${CPU[$case,rabbitmq]}")"
done
echo
echo "memory per queued 16-byte message (RSS growth / $QUEUED):" \
     "onebox ${PER_MSG[onebox]} B, rabbitmq ${PER_MSG[rabbitmq]} B," \
     "ratio $(ratio "${PER_MSG[onebox]}" "${PER_MSG[rabbitmq]}") (lower is better)"
for key in "${!BAD[@]}"; do
    echo "LOSS/DUPLICATE/FAILURE in $key: ${BAD[$key]}"
    fail=1
done
if [ -s "$WORK/perf.err" ]; then
    echo "mq_perf said:"; sort "$WORK/perf.err" | uniq -c | head -20
fi
goal=yes
for case in "${CASES[@]}"; do
    oc=$(m "${CON[$case,onebox]}"); rc=$(m "${CON[$case,rabbitmq]}")
    awk -v a="$oc" -v b="$rc" 'BEGIN { exit !(b > 0 && a >= 3 * b) }' || goal=no
done
[ $fail -eq 0 ] || goal=no
echo "goal (onebox >= 3x rabbitmq end to end in every case, nothing lost or duplicated): $goal"
exit $fail
