#!/usr/bin/env bash
# bench/cache.sh: onebox's cache against the real memcached, side by side.
#
#   1. throughput: memcaslap (libmemcached-tools) runs the same fixed-count
#      get/set mix (90% get, 10% set, 100-byte values) against memcached
#      -t 1, memcached with its default threads, and onebox, all with the
#      same memory;
#   2. memory per item: 1M items with 14-byte keys and 100-byte values are
#      stored in each server (pipelined sets from one client) and the growth
#      of its resident memory is divided by the item count; the target for
#      onebox is 150 bytes per item or less (issue 6);
#   3. server CPU per operation: the server's user + system time during the
#      mix (from /proc/<pid>/stat) divided by the operations run.
#
# Prints ops/s for each and onebox's ratio to each memcached.  On a small
# machine the load generator and the server compete for the cores, so with
# two or more cores each server is pinned to CPU 0 and the load generator
# to CPU 1 (taskset), and the mix runs ROUNDS times, the servers taking
# turns; each server's median is reported.  Bounded: a fixed number of operations, each
# run under a time limit.  Servers bind
# 127.0.0.1 on free ports and are stopped by PID.
#
# Usage: bench/cache.sh [OPS] [ITEMS] [ROUNDS]   (defaults 400000, 1000000, 3)
set -euo pipefail
cd "$(dirname "$0")/.."

OPS=${1:-400000}
ITEMS=${2:-1000000}
ROUNDS=${3:-3}
MEM_MB=1024
PY=/usr/bin/python3

command -v memcaslap >/dev/null && command -v memcached >/dev/null || {
    echo "bench/cache.sh needs memcached and libmemcached-tools:" \
         "apt-get install memcached libmemcached-tools" >&2; exit 2; }
[ -x bin/onebox ] || make --no-print-directory all >/dev/null

# Servers on CPU 0, the load generator on CPU 1, where there are two.
SERVER_CPU=(); LOAD_CPU=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
    SERVER_CPU=(taskset -c 0); LOAD_CPU=(taskset -c 1)
fi

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; }
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

# start NAME PORT ARGV... : starts a server, records its pid in SERVER_PID.
start() {
    local name=$1 port=$2; shift 2
    "${SERVER_CPU[@]}" "$@" >/tmp/bench-cache-$name.log 2>&1 &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    wait_port "$port"
}

stop() { kill -TERM "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

root_flag=(); [ "$(id -u)" -eq 0 ] && root_flag=(-u root)
memcached_cmd() { echo memcached -U 0 -l 127.0.0.1 -m "$MEM_MB" "${root_flag[@]}" -p "$@"; }
onebox_cmd() { echo bin/onebox -U 0 -l 127.0.0.1 -m "$MEM_MB" --core.http_port 0 -p "$@"; }

# tps PORT : runs the fixed mix, prints operations per second.
tps() {
    timeout 300 "${LOAD_CPU[@]}" memcaslap -s "127.0.0.1:$1" -x "$OPS" -T 1 -c 32 -X 100 2>&1 \
        | awk '/^Run time:/ { for (i = 1; i <= NF; i++) if ($i == "TPS:") print $(i+1) }'
}

# cpu_ticks PID : user + system clock ticks the process has used so far.
cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
TICKS_PER_SEC=$(getconf CLK_TCK)

# rss_kb PID
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# load PORT : stores ITEMS items of 100 bytes, pipelined.
load() {
    $PY - "$1" "$ITEMS" <<'PYEOF'
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port))
value = b"x" * 100
batch = 2000
for start in range(0, n, batch):
    req = b"".join(b"set key:%010d 0 0 100 noreply\r\n%s\r\n" % (i, value)
                   for i in range(start, min(n, start + batch)))
    s.sendall(req)
s.sendall(b"version\r\n")
buf = b""
while not buf.endswith(b"\r\n"):
    buf += s.recv(4096)
s.sendall(b"stats\r\n")
buf = b""
while not buf.endswith(b"END\r\n"):
    buf += s.recv(65536)
stats = dict(l.split(" ")[1:3] for l in buf.decode().split("\r\n") if l.startswith("STAT "))
print(stats["curr_items"], stats["evictions"])
PYEOF
}

TARGETS=("memcached-t1" "memcached" "onebox")

# start_target NAME PORT: starts one of TARGETS on PORT.
start_target() {
    case $1 in
        memcached-t1) start "$1" "$2" $(memcached_cmd "$2" -t 1) ;;
        memcached)    start "$1" "$2" $(memcached_cmd "$2") ;;
        onebox)       start "$1" "$2" $(onebox_cmd "$2") ;;
    esac
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

declare -A TPS RUNS PER_ITEM ITEMS_HELD CPU_RUNS CPU_NS
for round in $(seq "$ROUNDS"); do
    for target in "${TARGETS[@]}"; do
        port=$(free_port)
        start_target "$target" "$port"
        t0=$(cpu_ticks "$SERVER_PID")
        RUNS[$target]+="$(tps "$port") "
        t1=$(cpu_ticks "$SERVER_PID")
        CPU_RUNS[$target]+="$(( (t1 - t0) * 1000000000 / TICKS_PER_SEC / OPS )) "
        stop "$SERVER_PID"
    done
done
for target in "${TARGETS[@]}"; do
    TPS[$target]=$(tr ' ' '\n' <<<"${RUNS[$target]}" | grep . | median)
    CPU_NS[$target]=$(tr ' ' '\n' <<<"${CPU_RUNS[$target]}" | grep . | median)
done

# A fresh server for the memory figure, so the mix leaves no items.
for target in "${TARGETS[@]}"; do
    port=$(free_port)
    start_target "$target" "$port"
    pid=$SERVER_PID
    before=$(rss_kb "$pid")
    read -r held evicted < <(load "$port")
    after=$(rss_kb "$pid")
    ITEMS_HELD[$target]="$held (evicted $evicted)"
    PER_ITEM[$target]=$(( (after - before) * 1024 / (held > 0 ? held : 1) ))
    stop "$pid"
done

printf '\n%-14s %12s %12s %16s %20s   %s\n' "server" "ops/s" "CPU ns/op" \
       "bytes/item (RSS)" "items held" "ops/s of each round"
for target in "${TARGETS[@]}"; do
    printf '%-14s %12s %12s %16s %20s   %s\n' "$target" "${TPS[$target]}" \
           "${CPU_NS[$target]}" "${PER_ITEM[$target]}" "${ITEMS_HELD[$target]}" \
           "${RUNS[$target]}"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo
echo "throughput ratio onebox/memcached -t 1:      $(ratio "${TPS[onebox]}" "${TPS[memcached-t1]}")"
echo "throughput ratio onebox/memcached (default): $(ratio "${TPS[onebox]}" "${TPS[memcached]}")"
echo "memory per item ratio onebox/memcached:      $(ratio "${PER_ITEM[onebox]}" "${PER_ITEM[memcached]}")  (lower is better)"
echo "server CPU per op ratio onebox/memcached -t 1: $(ratio "${CPU_NS[onebox]}" "${CPU_NS[memcached-t1]}")  (lower is better)"
target_met=no; [ "${PER_ITEM[onebox]}" -le 150 ] && target_met=yes
echo "onebox bytes per item: ${PER_ITEM[onebox]} (target <= 150: $target_met)"
