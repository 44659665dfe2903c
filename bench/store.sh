#!/usr/bin/env bash
# bench/store.sh: onebox's store against the real redis-server, side by side.
#
#   1. throughput: redis-benchmark runs each test of TESTS (and XADD) with
#      N requests from 50 clients, once without pipelining and once with
#      -P 16, against redis-server and against onebox (only its store
#      enabled), both running, taking turns test by test, ROUNDS times
#      (the median is reported); requests/s for both and onebox's ratio;
#   2. server CPU per request: the server's user + system time during each
#      run (from /proc/<pid>/stat) divided by the requests of that run
#      (lrange_100 also runs the LPUSHes that fill its list: 2N);
#   3. memory: KEYS string keys with 100-byte values are loaded into a
#      fresh server (redis-cli --pipe) and the growth of its resident
#      memory is divided by the keys it then holds.
#   4. the append-only file: SET and INCR with appendonly yes under
#      appendfsync everysec and always (each server on its own data
#      directory under /tmp), without pipelining and with -P 16, N
#      requests each: requests/s of both and onebox's ratio.  The goal is
#      onebox >= redis under the same fsync policy (group commit: one
#      write and, under always, one fdatasync per loop pass for every
#      client of that pass).  AOF_ONLY=1 runs only this part.
#
# A command onebox does not have yet is tried once first (redis-cli): its
# error is printed and the test reported as "n/a"; the rest go on.  On a
# machine with two or more cores the servers are pinned to CPU 0 and the
# load generator to CPU 1 (taskset).  Servers bind 127.0.0.1 on free
# ports and are stopped by PID.
#
# Usage: bench/store.sh [N] [KEYS] [ROUNDS]   (defaults 100000, 1000000, 1)
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-100000}
KEYS=${2:-1000000}
ROUNDS=${3:-1}
MEM_MB=2048
PY=/usr/bin/python3
TESTS=(set get incr lpush rpush lpop rpop sadd hset spop zadd zpopmin
       lrange_100 mset)

command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null || {
    echo "bench/store.sh needs redis-server and redis-tools:" \
         "apt-get install redis-server redis-tools" >&2; exit 2; }
[ -x bin/onebox ] || make --no-print-directory all >/dev/null

SERVER_CPU=(); LOAD_CPU=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
    SERVER_CPU=(taskset -c 0); LOAD_CPU=(taskset -c 1)
fi

WORK=$(mktemp -d /tmp/bench-store.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
    $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() {
    for _ in $(seq 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "nothing listens on port $1" >&2; exit 1
}

# Every onebox module but the store is switched off.
ONEBOX_OFF=()
for section in $(bin/onebox --print-config \
                 | $PY -c 'import json,sys; print(" ".join(json.load(sys.stdin)))'); do
    case $section in core|store) ;; *) ONEBOX_OFF+=("--$section.enabled" false) ;; esac
done

# start NAME PORT [FSYNC]: starts redis or onebox on PORT, sets
# SERVER_PID; with FSYNC (everysec, always), appendonly yes under that
# policy, in a data directory of its own.
start() {
    local name=$1 port=$2 fsync=${3:-} dir=$WORK aof=()
    if [ -n "$fsync" ]; then
        dir=$WORK/aof-$name-$fsync
        mkdir -p "$dir"
    fi
    case $name in
        redis)  [ -n "$fsync" ] && aof=(--appendonly yes --appendfsync "$fsync")
                [ -z "$fsync" ] && aof=(--appendonly no)
                "${SERVER_CPU[@]}" redis-server --port "$port" --bind 127.0.0.1 \
                    --save "" "${aof[@]}" --dir "$dir" --daemonize no \
                    --logfile "" >"$WORK/$name.log" 2>&1 & ;;
        onebox) [ -n "$fsync" ] && aof=(--store.appendonly true
                                        --store.appendfsync "$fsync")
                [ -z "$fsync" ] && dir=$WORK/data
                "${SERVER_CPU[@]}" bin/onebox --core.http_port 0 \
                    --core.memory_mb "$MEM_MB" --core.data_dir "$dir" \
                    "${ONEBOX_OFF[@]}" --store.port "$port" "${aof[@]}" \
                    >"$WORK/$name.log" 2>&1 & ;;
    esac
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    wait_port "$port"
}

stop() { kill -TERM "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
TICKS_PER_SEC=$(getconf CLK_TCK)
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# probe_cmd TEST: one command of the test, to see that the server has it.
probe_cmd() {
    case $1 in
        set)        echo SET bench:probe:s v ;;
        get)        echo GET bench:probe:s ;;
        incr)       echo INCR bench:probe:i ;;
        lpush)      echo LPUSH bench:probe:l v ;;
        rpush)      echo RPUSH bench:probe:l v ;;
        lpop)       echo LPOP bench:probe:l ;;
        rpop)       echo RPOP bench:probe:l ;;
        sadd)       echo SADD bench:probe:set m ;;
        hset)       echo HSET bench:probe:h f v ;;
        spop)       echo SPOP bench:probe:set ;;
        zadd)       echo ZADD bench:probe:z 1 m ;;
        zpopmin)    echo ZPOPMIN bench:probe:z ;;
        lrange_100) echo LRANGE bench:probe:l 0 99 ;;
        mset)       echo MSET bench:probe:a 1 bench:probe:b 2 ;;
        xadd)       echo XADD bench:probe:x '*' f v ;;
    esac
}

# probe PORT TEST: prints the server's error for the test's command, if any.
probe() {
    local out cmd
    read -r -a cmd <<<"$(probe_cmd "$2")"      # no globbing of '*'
    out=$(timeout 10 redis-cli -p "$1" "${cmd[@]}" 2>&1 || true)
    case $out in
        ERR*|WRONGTYPE*|*"Connection refused"*|*"Could not connect"*) echo "$out" ;;
    esac
}

# rps PORT TEST PIPELINE: runs one redis-benchmark test, prints its
# requests per second (the last figure the run reports).
rps() {
    local port=$1 test=$2 pipe=$3 args
    if [ "$test" = xadd ]; then
        args=(XADD s '*' f v)
    else
        args=(-t "$test")
    fi
    timeout 600 "${LOAD_CPU[@]}" redis-benchmark -p "$port" -q -n "$N" \
        -P "$pipe" "${args[@]}" 2>&1 | tr '\r' '\n' \
        | awk '/requests per second/ { for (i = 1; i <= NF; i++)
                   if ($i == "requests" && $(i+1) == "per") v = $(i-1) }
               END { print (v == "" ? "n/a" : v) }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# Both servers run side by side and take turns on each test, so that the
# load of the machine at any moment weighs on both alike; each figure is
# the median of ROUNDS runs.
declare -A RPS=() CPU=() ERRS=() PORT=() PID=() RUNS=() CPUS=()
ALL_TESTS=("${TESTS[@]}" xadd)
AOF_ONLY=${AOF_ONLY:-0}
[ "$AOF_ONLY" = 1 ] && ALL_TESTS=()
for target in redis onebox; do
    PORT[$target]=$(free_port)
    start "$target" "${PORT[$target]}"
    PID[$target]=$SERVER_PID
done
for test in "${ALL_TESTS[@]}"; do
    for target in redis onebox; do
        err=$(probe "${PORT[$target]}" "$test")
        if [ -n "$err" ]; then
            ERRS[$target,$test]=$err
            echo "$target $test: $err" >&2
        fi
    done
    for p in 1 16; do
        for round in $(seq "$ROUNDS"); do
            for target in redis onebox; do
                [ -n "${ERRS[$target,$test]:-}" ] && continue
                pid=${PID[$target]}
                t0=$(cpu_ticks "$pid")
                RUNS[$target,$test,$p]+="$(rps "${PORT[$target]}" "$test" "$p") "
                t1=$(cpu_ticks "$pid")
                reqs=$N; [ "$test" = lrange_100 ] && reqs=$((2 * N))
                CPUS[$target,$test,$p]+="$(( (t1 - t0) * 1000000000 / TICKS_PER_SEC / reqs )) "
                if ! kill -0 "$pid" 2>/dev/null; then
                    echo "$target died during $test -P $p; see $WORK/$target.log" >&2
                    cat "$WORK/$target.log" >&2
                    exit 1
                fi
            done
        done
        for target in redis onebox; do
            if [ -n "${ERRS[$target,$test]:-}" ]; then
                RPS[$target,$test,$p]=n/a; CPU[$target,$test,$p]=n/a
            else
                RPS[$target,$test,$p]=$(tr ' ' '\n' <<<"${RUNS[$target,$test,$p]}" | grep . | median)
                CPU[$target,$test,$p]=$(tr ' ' '\n' <<<"${CPUS[$target,$test,$p]}" | grep . | median)
            fi
        done
    done
done
for target in redis onebox; do stop "${PID[$target]}"; done

# Memory: KEYS keys "key:%010d" with 100-byte values through redis-cli --pipe.
load() {
    $PY - "$KEYS" <<'PYEOF' | timeout 600 redis-cli -p "$1" --pipe 2>&1 | tail -1
import sys
n = int(sys.argv[1])
value = b"v" * 100
out = sys.stdout.buffer
batch = []
for i in range(n):
    key = b"key:%010d" % i
    batch.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$100\r\n%s\r\n" % (len(key), key, value))
    if len(batch) == 10000:
        out.write(b"".join(batch)); batch = []
out.write(b"".join(batch))
PYEOF
}

# held PORT: keys in db0 (INFO keyspace works where DBSIZE may not yet).
held() {
    redis-cli -p "$1" info keyspace 2>/dev/null | tr -d '\r' \
        | awk -F'[=,:]' '/^db0:/ { print $3; found = 1 } END { if (!found) print 0 }'
}

declare -A PER_KEY HELD LOADED
for target in redis onebox; do
    [ "$AOF_ONLY" = 1 ] && break
    port=$(free_port)
    start "$target" "$port"
    pid=$SERVER_PID
    sleep 0.2
    before=$(rss_kb "$pid")
    LOADED[$target]=$(load "$port" || true)
    after=$(rss_kb "$pid")
    HELD[$target]=$(held "$port")
    if [ "${HELD[$target]}" -gt 0 ]; then
        PER_KEY[$target]=$(( (after - before) * 1024 / HELD[$target] ))
    else
        PER_KEY[$target]=n/a
    fi
    stop "$pid"
done

# The append-only file: both servers with appendonly yes under the same
# appendfsync, side by side, taking turns as above.
AOF_TESTS=(set incr)
declare -A ARPS=() ARUNS=()
for fsync in everysec always; do
    for target in redis onebox; do
        PORT[$target]=$(free_port)
        start "$target" "${PORT[$target]}" "$fsync"
        PID[$target]=$SERVER_PID
    done
    for test in "${AOF_TESTS[@]}"; do
        for p in 1 16; do
            for round in $(seq "$ROUNDS"); do
                for target in redis onebox; do
                    ARUNS[$fsync,$target,$test,$p]+="$(rps "${PORT[$target]}" "$test" "$p") "
                    if ! kill -0 "${PID[$target]}" 2>/dev/null; then
                        echo "$target died during $test -P $p ($fsync)" >&2
                        cat "$WORK/$target.log" >&2
                        exit 1
                    fi
                done
            done
            for target in redis onebox; do
                ARPS[$fsync,$target,$test,$p]=$(tr ' ' '\n' <<<"${ARUNS[$fsync,$target,$test,$p]}" | grep . | median)
            done
        done
    done
    for target in redis onebox; do stop "${PID[$target]}"; done
done

ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0)
        printf "%.2f", a / b; else print "n/a" }'
}

echo
echo "redis-benchmark: $N requests per test, 50 clients, median of $ROUNDS; onebox/redis ratios"
echo "(requests/s: higher is better; CPU ns per request: lower is better)"
for p in 1 16; do
    echo
    printf '%-11s %3s %13s %13s %7s %10s %10s %7s\n' test P "redis rq/s" \
           "onebox rq/s" ratio "redis ns" "onebox ns" ratio
    for test in "${ALL_TESTS[@]}"; do
        printf '%-11s %3s %13s %13s %7s %10s %10s %7s\n' "$test" "$p" \
            "${RPS[redis,$test,$p]}" "${RPS[onebox,$test,$p]}" \
            "$(ratio "${RPS[onebox,$test,$p]}" "${RPS[redis,$test,$p]}")" \
            "${CPU[redis,$test,$p]}" "${CPU[onebox,$test,$p]}" \
            "$(ratio "${CPU[onebox,$test,$p]}" "${CPU[redis,$test,$p]}")"
    done
done
echo
echo "appendonly yes: $N requests per test, 50 clients, median of $ROUNDS; onebox/redis ratios"
printf '%-9s %-6s %3s %13s %13s %7s\n' fsync test P "redis rq/s" "onebox rq/s" ratio
for fsync in everysec always; do
    for test in "${AOF_TESTS[@]}"; do
        for p in 1 16; do
            printf '%-9s %-6s %3s %13s %13s %7s\n' "$fsync" "$test" "$p" \
                "${ARPS[$fsync,redis,$test,$p]}" "${ARPS[$fsync,onebox,$test,$p]}" \
                "$(ratio "${ARPS[$fsync,onebox,$test,$p]}" "${ARPS[$fsync,redis,$test,$p]}")"
        done
    done
done
[ "$AOF_ONLY" = 1 ] && exit 0
echo
echo "memory: $KEYS SET key:%010d <100 bytes> via redis-cli --pipe"
for target in redis onebox; do
    printf '  %-7s keys held %9s, RSS growth per key %6s bytes   (%s)\n' \
        "$target" "${HELD[$target]}" "${PER_KEY[$target]}" "${LOADED[$target]}"
done
echo "  bytes per key ratio onebox/redis: $(ratio "${PER_KEY[onebox]}" "${PER_KEY[redis]}")  (lower is better)"
if [ "${#ERRS[@]}" -gt 0 ]; then
    echo
    echo "not run (the server answered an error):"
    for k in "${!ERRS[@]}"; do echo "  ${k/,/ }: ${ERRS[$k]}"; done | sort
fi
