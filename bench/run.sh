#!/usr/bin/env bash
# bench/run.sh: side-by-side echo server benchmark over loopback. See bench/README.md.
#
#   bash bench/run.sh                      everything (about 2.5 minutes on 2 cores)
#   DURATION=10 WARMUP=2 bash bench/run.sh longer runs
#   SERVERS="epoll-c node" SCENARIOS="S1 S3" bash bench/run.sh
#
# Builds the C parts into bench/.build/, publishes EchoKit there (Release; ECHOKIT_AOT=1
# for Native AOT), then for every server x scenario: start the server pinned to one core
# on a free loopback port, wait for its "listening" line, drive it from the other core,
# stop it. Writes a Markdown report to stdout and bench/results/latest.md.
# Every step is bounded by a timeout; a server that fails gets "n/a", never a hang.

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
B=$HERE/.build

DURATION=${DURATION:-5}          # measured seconds per scenario
WARMUP=${WARMUP:-1}              # seconds of load before measuring (JIT, caches)
IDLE_CONNS=${IDLE_CONNS:-10000}  # connections for S5 and S5b
REPEAT=${REPEAT:-1}              # rounds per scenario, servers alternating; the report takes each server's median
START_TIMEOUT=${START_TIMEOUT:-30}
SERVERS=${SERVERS-"echokit epoll-c node python ncat socat"}   # set to "" to skip TCP
UDP_SERVERS=${UDP_SERVERS-"echokit udp-c"}      # set to "" to skip UDP
SCENARIOS=${SCENARIOS:-"S1 S2 S3 S4 S5 U1 U2"}
SKIP_PUBLISH=${SKIP_PUBLISH:-0}  # 1 = reuse bench/.build/echokit as it is
ECHOKIT_AOT=${ECHOKIT_AOT:-0}
SERVER_CORE=${SERVER_CORE:-1}
LOAD_CORE=${LOAD_CORE:-0}
if [ "$(nproc)" -lt 2 ]; then SERVER_CORE=0; LOAD_CORE=0; fi

# The exact command, with every setting that was overridden from the environment.
CMDLINE=""
for v in LOADGEN REPEAT DURATION WARMUP IDLE_CONNS SERVERS UDP_SERVERS SCENARIOS SERVER_TABLE_EXTRA SKIP_PUBLISH ECHOKIT_AOT SERVER_CORE LOAD_CORE START_TIMEOUT; do
    if printenv "$v" >/dev/null; then CMDLINE+="$v=$(printf '%q' "$(printenv "$v")") "; fi
done
CMDLINE+="bash bench/run.sh${*:+ $*}"

# ---- the servers ------------------------------------------------------------------
# name  protocol  command ({PORT}, {B} = bench/.build, {HERE} = bench/ are filled in).
# The baselines are epoll-c (TCP) and udp-c (UDP). Add a row to add a server.
SERVER_TABLE='
echokit  tcp  {B}/echokit/echokit serve --tcp 127.0.0.1:{PORT} --quiet
echokit-epoll  tcp  {B}/echokit/echokit serve --tcp 127.0.0.1:{PORT} --quiet --engine epoll
echokit-sockets  tcp  {B}/echokit/echokit serve --tcp 127.0.0.1:{PORT} --quiet --engine sockets
echokit-epoll-2t  tcp  {B}/echokit/echokit serve --tcp 127.0.0.1:{PORT} --quiet --engine epoll --io-threads 2
echokit-sockets-2t  tcp  {B}/echokit/echokit serve --tcp 127.0.0.1:{PORT} --quiet --engine sockets
epoll-c  tcp  {B}/epoll_echo {PORT} 127.0.0.1
node     tcp  node {HERE}/servers/node_echo.js {PORT}
python   tcp  python3 {HERE}/servers/python_echo.py {PORT}
ncat     tcp  {HERE}/servers/announce.sh {PORT} ncat -l -k 127.0.0.1 {PORT} --exec /bin/cat
socat    tcp  {HERE}/servers/announce.sh {PORT} socat TCP-LISTEN:{PORT},bind=127.0.0.1,fork,reuseaddr EXEC:cat
echokit  udp  {B}/echokit/echokit serve --udp 127.0.0.1:{PORT} --quiet
udp-c    udp  {B}/udp_echo {PORT} 127.0.0.1
'
# More rows without editing this file: SERVER_TABLE_EXTRA='mysrv tcp /path/to/srv {PORT}'
SERVER_TABLE+=${SERVER_TABLE_EXTRA:+$'\n'"$SERVER_TABLE_EXTRA"$'\n'}
TCP_BASELINE=epoll-c
# Which load generator drives TCP traffic (S1-S4): echokit (`echokit bench`, the default) or c (`echo_load`).
# S5 (idle connections) and UDP always use the C tools: echokit bench has no idle mode, and its UDP mode is not
# batched yet (slower than udp_load, so it would be what limits the measurement).
LOADGEN=${LOADGEN:-echokit}
# Servers run without taskset (on every core): the two-loop rows, to show what a second core gives.
UNPINNED_SERVERS=${UNPINNED_SERVERS-"echokit-epoll-2t echokit-sockets-2t"}
# Servers that fork a process per connection (skipped in S5 and S5b).
PROCESS_PER_CONNECTION="ncat socat"
UDP_BASELINE=udp-c

# ---- the scenarios -----------------------------------------------------------------
# id  loadgen arguments (tcp: echo_load, udp: udp_load; S5 is the idle-memory scenario)
scenario_args() {
    case $1 in
        S1) echo "--connections 1 --pipeline 1 --size 32" ;;
        S2) echo "--connections 100 --pipeline 1 --size 32" ;;
        S3) echo "--connections 100 --pipeline 16 --size 32" ;;
        S4) echo "--connections 10 --pipeline 4 --size 65536" ;;
        S5) echo "--idle $IDLE_CONNS" ;;
        S5b) echo "--idle $IDLE_CONNS --touch" ;;
        U1) echo "--size 64 --window 32" ;;
        U2) echo "--size 1472 --window 32" ;;
    esac
}
scenario_proto() { case $1 in U*) echo udp ;; *) echo tcp ;; esac; }

# ---- plumbing ----------------------------------------------------------------------
log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

SRV_PID=""
LOAD_PID=""
cleanup() {
    # timeout(1) puts itself and the generator in their own process group.
    [ -n "$LOAD_PID" ] && kill -TERM -- "-$LOAD_PID" 2>/dev/null
    [ -n "$SRV_PID" ] && stop_server
    return 0
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

free_port() { # $1 = tcp|udp
    python3 - "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if sys.argv[1] == "tcp" else socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
EOF
}

server_cmd() { # $1 name, $2 proto -> the command template, or nothing
    awk -v n="$1" -v p="$2" '$1 == n && $2 == p { $1 = ""; $2 = ""; sub(/^ +/, ""); print; exit }' <<<"$SERVER_TABLE"
}

cpu_ticks() { # utime + stime of a pid, in clock ticks
    local stat rest
    { read -r stat <"/proc/$1/stat"; } 2>/dev/null || { echo 0; return; }
    rest=${stat##*) }   # the command name may contain spaces; fields after it may not
    set -- $rest
    echo $(( ${12} + ${13} ))
}
vm_kib() { # pid field -> the number from /proc/pid/status, or null
    local v
    v=$(awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null)
    echo "${v:-null}"
}
now_s() { date +%s.%N; }
fcalc() { python3 -c "print($1)"; }

# Starts server $1 ($2 = tcp|udp) on a free port, pinned to SERVER_CORE.
# Sets SRV_PID, SRV_PORT, SRV_LOG. Returns non-zero with SRV_WHY set when it fails.
start_server() {
    local name=$1 proto=$2 tmpl cmd i
    SRV_PID="" SRV_WHY=""
    tmpl=$(server_cmd "$name" "$proto")
    if [ -z "$tmpl" ]; then SRV_WHY="no $proto command"; return 1; fi
    SRV_PORT=$(free_port "$proto")
    cmd=${tmpl//\{PORT\}/$SRV_PORT}; cmd=${cmd//\{B\}/$B}; cmd=${cmd//\{HERE\}/$HERE}
    read -r -a argv <<<"$cmd"
    if [ ! -x "${argv[0]}" ] && ! command -v "${argv[0]}" >/dev/null; then
        SRV_WHY="not built"; return 1
    fi
    SRV_LOG=$B/logs/$name-$proto-$SCEN.log
    # Emptied here, not only by the redirection below: that runs in the background job, possibly after the first
    # grep, which would then find the previous round's "listening" line and start the load before this server
    # listens (seen as "Connection refused" on servers slower to start than epoll-c).
    : >"$SRV_LOG"
    # setsid: the server gets its own process group, so stopping it also stops any
    # helper it spawned. Non-interactive bash does not make & jobs group leaders,
    # so setsid execs in place and $! is the server itself.
    local pin=(taskset -c "$SERVER_CORE")
    [[ " $UNPINNED_SERVERS " == *" $name "* ]] && pin=()
    setsid "${pin[@]}" "${argv[@]}" >"$SRV_LOG" 2>&1 </dev/null &
    SRV_PID=$!
    for ((i = 0; i < START_TIMEOUT * 10; i++)); do
        if grep -q "listening" "$SRV_LOG" 2>/dev/null; then
            sleep 0.1 # a server that prints and then dies is not ready
            kill -0 "$SRV_PID" 2>/dev/null && return 0
            SRV_WHY="exited right after its listening line"; wait "$SRV_PID" 2>/dev/null; SRV_PID=""; return 1
        fi
        if ! kill -0 "$SRV_PID" 2>/dev/null; then
            wait "$SRV_PID" 2>/dev/null
            SRV_WHY="exited with status $?: $(tail -c 200 "$SRV_LOG")"; SRV_PID=""; return 1
        fi
        sleep 0.1
    done
    SRV_WHY="no listening line in ${START_TIMEOUT}s"
    stop_server
    return 1
}

stop_server() {
    [ -z "$SRV_PID" ] && return 0
    local i
    kill -TERM -- "-$SRV_PID" 2>/dev/null || kill -TERM "$SRV_PID" 2>/dev/null
    for ((i = 0; i < 30; i++)); do
        kill -0 "$SRV_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$SRV_PID" 2>/dev/null; then
        log "server $SRV_PID ignored SIGTERM for 3 s; killing it"
        kill -KILL -- "-$SRV_PID" 2>/dev/null || kill -KILL "$SRV_PID" 2>/dev/null
    fi
    wait "$SRV_PID" 2>/dev/null
    SRV_PID=""
}

# Appends one result line (JSON) to the raw results.
record() { # server scenario status note extra-json load-json
    local note
    note=$(printf '%s' "$4" | tr -d '\000-\037\\' | tr '"' "'")
    printf '{"server":"%s","scenario":"%s","status":"%s","note":"%s"%s,"load":%s}\n' \
        "$1" "$2" "$3" "$note" "${5:+,$5}" "${6:-null}" >>"$RAW"
}

# Runs a load generator in the background, bounded, waits for it. Output -> $1.
run_load() { # outfile cmd...
    local out=$1; shift
    timeout -k 5 "$(( ${DURATION%.*} + ${WARMUP%.*} + 60 ))" taskset -c "$LOAD_CORE" "$@" --json >"$out" 2>"$out.err" &
    LOAD_PID=$!
    wait "$LOAD_PID"; local rc=$?
    LOAD_PID=""
    return $rc
}

run_traffic() { # server scenario
    local name=$1 scen=$2 proto out c0 c1 t0 t1 rc json cpu
    proto=$(scenario_proto "$scen")
    out=$B/logs/$name-$scen.json
    read -r -a args <<<"$(scenario_args "$scen")"
    local gen=$B/echo_load; [ "$proto" = udp ] && gen=$B/udp_load
    c0=$(cpu_ticks "$SRV_PID"); t0=$(now_s)
    if [ "$proto" = tcp ] && [ "$LOADGEN" = echokit ] && [ -x "$B/echokit/echokit" ]; then
        # echokit bench drives TCP (it keeps up with echo_load: docs/bench.md); its JSON gets echo_load's names.
        run_load "$out.ek" "$B/echokit/echokit" bench "127.0.0.1:$SRV_PORT" "${args[@]}" --duration "${DURATION}s" --warmup "${WARMUP}s"
        rc=$?
        python3 "$HERE/ek2load.py" <"$out.ek" >"$out"
        cp "$out.ek.err" "$out.err" 2>/dev/null
    else
        run_load "$out" "$gen" --host 127.0.0.1 --port "$SRV_PORT" "${args[@]}" --duration "$DURATION" --warmup "$WARMUP"
        rc=$?
    fi
    c1=$(cpu_ticks "$SRV_PID"); t1=$(now_s)
    json=$(grep -m1 '^{' "$out")
    cpu=$(fcalc "round(100.0 * ($c1 - $c0) / $(getconf CLK_TCK) / ($t1 - $t0), 1)")
    local extra="\"server_cpu_pct\":$cpu,\"server_hwm_kib\":$(vm_kib "$SRV_PID" VmHWM),\"server_threads\":$(vm_kib "$SRV_PID" Threads)"
    if [ -z "$json" ]; then
        record "$name" "$scen" "n/a" "load generator failed (rc $rc): $(head -c 200 "$out.err" | tr '\n' ' ')" "$extra"
    elif ! kill -0 "$SRV_PID" 2>/dev/null; then
        record "$name" "$scen" "crashed" "server exited during the run" "$extra" "$json"
    elif [ $rc -ne 0 ]; then
        record "$name" "$scen" "errors" "$(head -c 200 "$out.err" | tr '\n' ' ')" "$extra" "$json"
    else
        record "$name" "$scen" "ok" "" "$extra" "$json"
    fi
}

fd_count() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }

run_idle() { # server scenario: RSS per idle connection (S5: never sent a byte; S5b: echoed 32 B first), and after close
    local name=$1 scen=$2 out=$B/logs/$1-$2.json rss0 rss1 rss2 fd0 fds i connected json touch=()
    [ "$scen" = S5b ] && touch=(--touch)
    sleep 1 # let the fresh server settle before the baseline reading
    rss0=$(vm_kib "$SRV_PID" VmRSS); fd0=$(fd_count "$SRV_PID")
    timeout -k 5 120 taskset -c "$LOAD_CORE" "$B/echo_load" --host 127.0.0.1 --port "$SRV_PORT" \
        --idle "$IDLE_CONNS" "${touch[@]}" --hold 100 --json >"$out" 2>"$out.err" &
    LOAD_PID=$!
    for ((i = 0; i < 600; i++)); do # the "connected" line, 60 s at most
        grep -q '^{' "$out" 2>/dev/null && break
        kill -0 "$LOAD_PID" 2>/dev/null || break
        sleep 0.1
    done
    json=$(grep -m1 '^{' "$out")
    connected=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["connected"])' "$json" 2>/dev/null || echo 0)
    # A connect completes when the kernel queues it, not when the server accepts it:
    # wait (20 s at most) until the server holds a descriptor for each connection.
    for ((i = 0; i < 200; i++)); do
        fds=$(fd_count "$SRV_PID")
        [ $((fds - fd0)) -ge "$connected" ] && break
        kill -0 "$SRV_PID" 2>/dev/null || break
        sleep 0.1
    done
    sleep 3 # let lazily allocated per-connection state appear
    rss1=$(vm_kib "$SRV_PID" VmRSS); fds=$(fd_count "$SRV_PID")
    kill -TERM -- "-$LOAD_PID" 2>/dev/null; wait "$LOAD_PID" 2>/dev/null; LOAD_PID=""
    local accepted=$((fds - fd0))
    # Memory after every connection closed: wait (20 s at most) for the descriptors to go, then 3 s more.
    for ((i = 0; i < 200; i++)); do
        [ "$(fd_count "$SRV_PID")" -le "$fd0" ] && break
        kill -0 "$SRV_PID" 2>/dev/null || break
        sleep 0.1
    done
    sleep 3
    rss2=$(vm_kib "$SRV_PID" VmRSS)
    local extra="\"rss_before_kib\":$rss0,\"rss_with_kib\":$rss1,\"rss_after_kib\":$rss2,\"accepted\":$accepted,\"server_threads\":$(vm_kib "$SRV_PID" Threads)"
    if [ -z "$json" ] || [ "$connected" -eq 0 ] || [ "$rss1" = null ]; then
        record "$name" "$scen" "n/a" "idle connections failed: $(head -c 200 "$out.err" | tr '\n' ' ')" "$extra" "${json:-null}"
    elif [ "$connected" -lt "$IDLE_CONNS" ] || [ "$accepted" -lt "$connected" ]; then
        record "$name" "$scen" "errors" "connected $connected, server accepted $accepted of $IDLE_CONNS" "$extra" "$json"
    else
        record "$name" "$scen" "ok" "" "$extra" "$json"
    fi
}

# ---- build ---------------------------------------------------------------------------
mkdir -p "$B/logs" "$HERE/results"
rm -f "$B"/logs/*
RAW=$B/results.jsonl
: >"$RAW"

log "compiling the C baselines and load generators"
CFLAGS="-O2 -Wall -Wextra"
for src in baselines/epoll_echo baselines/udp_echo loadgen/echo_load loadgen/udp_load; do
    if ! timeout 120 gcc $CFLAGS -o "$B/$(basename "$src")" "$HERE/$src.c"; then
        log "gcc failed for $src.c"; exit 1
    fi
done

case " $SERVERS $UDP_SERVERS " in *" echokit"*)
    if [ "$SKIP_PUBLISH" = 1 ]; then
        # A stale build measures old code: say which commit it is, and whether src/ moved on since.
        built=$(cat "$B/echokit.commit" 2>/dev/null || echo unknown)
        log "SKIP_PUBLISH=1: using $B/echokit as it is (built from $built)"
        if [ "$built" = unknown ] || ! git -C "$ROOT" diff --quiet "${built%%+*}" -- src 2>/dev/null || [[ "$built" == *+dirty ]]; then
            log "WARNING: src/ differs from the published echokit's commit; publish again (SKIP_PUBLISH=0) to measure this tree"
        fi
    elif [ ! -d "$ROOT/src/EchoKit.Cli" ]; then
        log "src/EchoKit.Cli does not exist yet: echokit rows will be n/a"
    else
        aot=(); [ "$ECHOKIT_AOT" = 1 ] && aot=(-p:PublishAot=true)
        log "publishing EchoKit (Release${aot:+, Native AOT}); log in $B/logs/publish.log"
        rm -rf "$B/echokit"
        # --artifacts-path keeps this build's obj/ and bin/ inside bench/.build, so it
        # never races a developer's build of the same projects.
        if ! (cd "$ROOT" && timeout -k 10 900 dotnet publish src/EchoKit.Cli -c Release \
                --artifacts-path "$B/artifacts" -o "$B/echokit" "${aot[@]}" -nologo) >"$B/publish.log" 2>&1; then
            log "dotnet publish failed (see $B/publish.log): echokit rows will be n/a"
            rm -rf "$B/echokit"
        else
            commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
            git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || commit="$commit+dirty"
            echo "$commit" >"$B/echokit.commit"
        fi
    fi
esac

# ncat and socat come from Debian's packages; install them when missing and we may (else their rows are n/a).
for tool in ncat socat; do
    if [[ " $SERVERS " == *" $tool "* ]] && ! command -v "$tool" >/dev/null && [ "$(id -u)" = 0 ]; then
        log "installing $tool"
        timeout 300 apt-get install -y -qq "$tool" >/dev/null 2>&1 || log "could not install $tool: its rows will be n/a"
    fi
done

# ---- run -------------------------------------------------------------------------------
T_START=$(date +%s)
for SCEN in $SCENARIOS; do
    proto=$(scenario_proto "$SCEN")
    if [ -z "$(scenario_args "$SCEN")" ]; then log "unknown scenario $SCEN"; continue; fi
    list=$SERVERS; [ "$proto" = udp ] && list=$UDP_SERVERS
    # REPEAT rounds, the servers alternating within each, so a slow spell of a shared machine hits all of them.
    rounds=""; for ((r = 0; r < REPEAT; r++)); do rounds+=" $list"; done
    for name in $rounds; do
        log "$SCEN $name"
        if [[ "$SCEN" == S5* ]] && [[ " $PROCESS_PER_CONNECTION " == *" $name "* ]]; then
            # 10,000 idle connections would be 10,000 forked processes (20,000 for socat): not a memory figure
            # anyone could compare, and more than this machine should be asked for.
            record "$name" "$SCEN" "n/a" "one process per connection"
            continue
        fi
        if ! start_server "$name" "$proto"; then
            log "  $name: n/a ($SRV_WHY)"
            record "$name" "$SCEN" "n/a" "$SRV_WHY"
            continue
        fi
        if [[ "$SCEN" == S5* ]]; then run_idle "$name" "$SCEN"; else run_traffic "$name" "$SCEN"; fi
        stop_server
        tail -n1 "$RAW" | cut -c1-220 >&2
    done
done
ELAPSED=$(( $(date +%s) - T_START ))

# ---- report ----------------------------------------------------------------------------
python3 "$HERE/report.py" "$RAW" \
    --command "$CMDLINE" --elapsed "$ELAPSED" --duration "$DURATION" --warmup "$WARMUP" \
    --server-core "$SERVER_CORE" --load-core "$LOAD_CORE" \
    --servers "$SERVERS" --udp-servers "$UDP_SERVERS" --scenarios "$SCENARIOS" \
    --tcp-baseline "$TCP_BASELINE" --udp-baseline "$UDP_BASELINE" \
    --echokit-build "$([ "$ECHOKIT_AOT" = 1 ] && echo 'Release, Native AOT' || echo 'Release, JIT'), commit $(cat "$B/echokit.commit" 2>/dev/null || echo unknown); TCP load: $([ "$LOADGEN" = echokit ] && echo 'echokit bench' || echo 'echo_load')" \
    >"$HERE/results/latest.md"
python3 "$HERE/chart.py" "$RAW" "$HERE/results/latest.svg" || log "chart failed"
cat "$HERE/results/latest.md"
