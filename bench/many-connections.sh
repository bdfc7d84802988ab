#!/usr/bin/env bash
# bench/many-connections.sh: CONNS concurrent connections (default 19,000) that each echo 32 bytes and then stay
# open, against each server; reports whether all of them echoed, the server's RSS per connection, and its RSS after
# they all closed. See docs/benchmarks.md ("Many connections").
#
#   bash bench/many-connections.sh
#   CONNS=19000 SERVERS="epoll-c echokit-epoll echokit-sockets" bash bench/many-connections.sh
#
# One client address has about 28,000 ephemeral ports to one server port (net.ipv4.ip_local_port_range), and
# ports in TIME-WAIT from earlier runs count against them: that is what stopped an earlier attempt at 15,616. So the
# clients connect from several loopback addresses (127.0.0.1, 127.0.0.2, ...; echo_load --source), each with its
# own port range: nothing on the machine is changed and no privilege is needed. The server's descriptor limit must
# exceed CONNS (ulimit -Hn; both servers raise their soft limit to the hard one).
# Uses bench/.build from bench/run.sh (SKIP_PUBLISH=1 there reuses it); builds the C tools itself.

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
B=$HERE/.build
CONNS=${CONNS:-19000}
PER_SOURCE=${PER_SOURCE:-10000}   # connections per client address, well inside one address's port range
SERVERS=${SERVERS:-"epoll-c echokit-epoll echokit-sockets"}
SERVER_CORE=${SERVER_CORE:-1}
LOAD_CORE=${LOAD_CORE:-0}
if [ "$(nproc)" -lt 2 ]; then SERVER_CORE=0; LOAD_CORE=0; fi

server_cmd() { # name port -> command
    case $1 in
        epoll-c) echo "$B/epoll_echo $2 127.0.0.1" ;;
        echokit-epoll) echo "$B/echokit/echokit serve --tcp 127.0.0.1:$2 --quiet --engine epoll" ;;
        echokit-sockets) echo "$B/echokit/echokit serve --tcp 127.0.0.1:$2 --quiet --engine sockets" ;;
        *) return 1 ;;
    esac
}
log() { printf '[many %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
rss() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }

mkdir -p "$B/logs" "$HERE/results"
for src in loadgen/echo_load baselines/epoll_echo; do
    timeout 120 gcc -O2 -Wall -Wextra -o "$B/$(basename "$src")" "$HERE/$src.c" || { log "gcc failed for $src.c"; exit 1; }
done
if [ "$(ulimit -Hn)" -le "$CONNS" ]; then log "the hard descriptor limit $(ulimit -Hn) is not above $CONNS"; exit 1; fi
ulimit -n "$(ulimit -Hn)"

sources=""
for ((i = 1; (i - 1) * PER_SOURCE < CONNS; i++)); do sources+="${sources:+,}127.0.0.$i"; done

SRV=""; LOAD=""
cleanup() {
    [ -n "$LOAD" ] && kill "$LOAD" 2>/dev/null
    [ -n "$SRV" ] && kill -TERM -- "-$SRV" 2>/dev/null
    return 0
}
trap cleanup EXIT

out=$HERE/results/many-connections.md
{
    echo "# $CONNS concurrent connections"
    echo
    echo "\`CONNS=$CONNS SERVERS=\"$SERVERS\" bash bench/many-connections.sh\`, $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg), client addresses $sources"
    echo
    echo "| server | connected | echoed | server fds | RSS before | RSS with | per connection | RSS after close |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
} >"$out"

for name in $SERVERS; do
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    cmd=$(server_cmd "$name" "$port") || { log "unknown server $name"; continue; }
    slog=$B/logs/many-$name.log
    : >"$slog" # else the first grep may find the last run's "listening" line (the redirection below runs later)
    setsid taskset -c "$SERVER_CORE" $cmd >"$slog" 2>&1 </dev/null &
    SRV=$!
    for ((i = 0; i < 300; i++)); do grep -q listening "$slog" 2>/dev/null && break; sleep 0.1; done
    if ! grep -q listening "$slog"; then log "$name did not start: $(tail -c 200 "$slog")"; kill -TERM -- "-$SRV"; SRV=""; continue; fi
    sleep 1
    r0=$(rss "$SRV"); f0=$(fds "$SRV")
    json=$B/logs/many-$name.json
    log "$name: $CONNS connections from $sources"
    timeout -k 5 300 taskset -c "$LOAD_CORE" "$B/echo_load" --host 127.0.0.1 --port "$port" --source "$sources" \
        --idle "$CONNS" --touch --hold 120 --connect-timeout 60 --json >"$json" 2>"$json.err" &
    LOAD=$!
    for ((i = 0; i < 1200; i++)); do grep -q '^{' "$json" 2>/dev/null && break; kill -0 "$LOAD" 2>/dev/null || break; sleep 0.1; done
    # Accepted by the server, not only queued by the kernel: wait for its descriptors.
    for ((i = 0; i < 300; i++)); do [ $(($(fds "$SRV") - f0)) -ge "$CONNS" ] && break; sleep 0.1; done
    sleep 3
    r1=$(rss "$SRV"); f1=$(($(fds "$SRV") - f0))
    read -r connected touched < <(python3 -c 'import json, sys
try:
    d = json.loads(open(sys.argv[1]).readline()); print(d["connected"], d["touched"])
except Exception:
    print(0, 0)' "$json")
    kill "$LOAD" 2>/dev/null; wait "$LOAD" 2>/dev/null; LOAD=""
    for ((i = 0; i < 300; i++)); do [ "$(fds "$SRV")" -le "$f0" ] && break; sleep 0.1; done
    sleep 3
    r2=$(rss "$SRV")
    alive=yes; kill -0 "$SRV" 2>/dev/null || alive="no (exited)"
    kill -TERM -- "-$SRV" 2>/dev/null; wait "$SRV" 2>/dev/null; SRV=""
    per=$(python3 -c "print(f'{($r1 - $r0) / max($CONNS, 1):.2f} KiB')")
    printf '| %s | %s | %s | %s | %.1f MiB | %.1f MiB | %s | %.1f MiB (%+.1f) |\n' "$name" "$connected" "$touched" "$f1" \
        "$(python3 -c "print($r0 / 1024)")" "$(python3 -c "print($r1 / 1024)")" "$per" \
        "$(python3 -c "print($r2 / 1024)")" "$(python3 -c "print(($r2 - $r0) / 1024)")" >>"$out"
    log "$name: connected $connected, echoed $touched, server fds +$f1, alive after: $alive; $(head -c 200 "$json.err")"
done
cat "$out"
