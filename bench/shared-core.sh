#!/usr/bin/env bash
# bench/shared-core.sh: server CPU per message, measured with the servers side by side on one core AT THE SAME TIME.
#
#   bash bench/shared-core.sh                      epoll-c and echokit (epoll engine), S1-S4, 5 rounds
#   ROUNDS=9 SCENARIOS="S2 S3" bash bench/shared-core.sh
#
# Why: bench/run.sh runs one server at a time, so two servers never see the same machine. On a shared host the same
# C server does 66k msg/s in one round and 103k in the next (docs/benchmarks.md), more than any difference between
# servers. Here every server is pinned to SERVER_CORE together, each driven by its own echo_load on LOAD_CORE with the
# same scenario, so whatever the host does, it does to all of them at once. Each server's CPU time (all its threads,
# from /proc/PID/task/*/schedstat) divided by the messages it echoed is its cost per message; the ratio
# epoll-c cost / server cost is the figure (above 1: cheaper than C). Throughput is printed too but is not the
# figure: the servers share one core and the scheduler shares it out, so their rates stay close whatever they cost.
# "core busy" is the servers' CPU summed over the round: near 100 % the core is the limit and the cost is the work a
# message takes; well below it the load generators are the limit, and the cost includes each server's sleeping and
# waking, which depends on how its messages bunch up.
# Needs bench/.build from bench/run.sh (run it once, or SCENARIOS=S1 SERVERS=epoll-c bash bench/run.sh).

set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
B=$HERE/.build
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5}
SCENARIOS=${SCENARIOS:-"S1 S2 S3 S4"}
SERVER_CORE=${SERVER_CORE:-1}
LOAD_CORE=${LOAD_CORE:-0}
# name=command pairs, the baseline first; {PORT} is filled in.
SERVERS=${SERVERS:-"epoll-c=$B/epoll_echo {PORT} 127.0.0.1;echokit=$B/echokit/echokit serve --tcp 127.0.0.1:{PORT} --quiet"}

# The scenarios and the free-port helper are bench/run.sh's own (one definition each).
eval "$(sed -n '/^scenario_args() {/,/^}/p; /^free_port() {/,/^}/p' "$HERE/run.sh")"

for tool in "$B/echo_load" "$B/epoll_echo"; do
    [ -x "$tool" ] || { echo "shared-core: $tool is missing: run bench/run.sh first" >&2; exit 2; }
done

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done; wait 2>/dev/null; return 0; }
trap cleanup EXIT
trap 'exit 130' INT TERM

cpu_ns() { # nanoseconds on CPU of all the process's threads (bash's 64-bit sum: mawk's printf %d stops at 2^31)
    local f ns rest sum=0
    for f in /proc/"$1"/task/*/schedstat; do
        read -r ns rest <"$f" 2>/dev/null && sum=$((sum + ns))
    done
    echo "$sum"
}

IFS=';' read -r -a entries <<<"$SERVERS"
RAW=$(mktemp)
for scen in $SCENARIOS; do
    read -r -a args <<<"$(scenario_args "$scen")"
    for ((round = 1; round <= ROUNDS; round++)); do
        # Alternate the start order, so no server is always the first to get going.
        order=("${entries[@]}")
        if ((round % 2 == 0)); then order=(); for ((i = ${#entries[@]} - 1; i >= 0; i--)); do order+=("${entries[$i]}"); done; fi
        names=() ports=() PIDS=()
        for entry in "${order[@]}"; do
            name=${entry%%=*} port=$(free_port tcp)
            read -r -a argv <<<"${entry#*=}"
            argv=("${argv[@]//\{PORT\}/$port}")
            taskset -c "$SERVER_CORE" "${argv[@]}" >/dev/null 2>&1 &
            PIDS+=($!) names+=("$name") ports+=("$port")
        done
        for port in "${ports[@]}"; do
            for ((i = 0; i < 300; i++)); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
        done
        loads=()
        for i in "${!names[@]}"; do
            timeout -k 5 $((DURATION + 60)) taskset -c "$LOAD_CORE" "$B/echo_load" --port "${ports[$i]}" "${args[@]}" \
                --duration "$DURATION" --warmup 1 --json >"$RAW.$i" 2>/dev/null &
            loads+=($!)
        done
        sleep 1 # the generators' warm-up
        c0=(); for p in "${PIDS[@]}"; do c0+=("$(cpu_ns "$p")"); done
        sleep "$DURATION"
        c1=(); for p in "${PIDS[@]}"; do c1+=("$(cpu_ns "$p")"); done
        wait "${loads[@]}"
        for i in "${!names[@]}"; do
            printf '%s %s %s %s %s\n' "$scen" "$round" "${names[$i]}" "$((c1[i] - c0[i]))" "$(tr -d '\n' <"$RAW.$i")" >>"$RAW"
        done
        cleanup; PIDS=()
    done
done

python3 - "$RAW" "$DURATION" "${entries[0]%%=*}" <<'EOF'
import json, statistics, sys
raw, duration, base = sys.argv[1], float(sys.argv[2]), sys.argv[3]
rows = {}
for line in open(raw):
    scen, rnd, name, ns, js = line.split(" ", 4)
    try:
        load = json.loads(js)
    except ValueError:
        continue
    if load.get("errors") or load.get("mismatches"):
        continue
    rows.setdefault(scen, {}).setdefault(int(rnd), {})[name] = (int(ns), load["messages"], load["msg_per_s"])
print(f"Server CPU per message, servers side by side on one core at once ({duration:g} s rounds); "
      f"ratio = {base} cost / server cost (above 1: cheaper than {base})")
for scen, rounds in rows.items():
    names = sorted({n for r in rounds.values() for n in r if n != base})
    for name in names:
        ratios, costs, rates, busy = [], [], [], []
        for r in rounds.values():
            if base in r and name in r and r[base][1] and r[name][1]:
                cb, cn = r[base][0] / r[base][1], r[name][0] / r[name][1]
                ratios.append(cb / cn); costs.append((cb, cn)); rates.append(r[name][2] / r[base][2])
                busy.append(sum(v[0] for v in r.values()) / (duration * 1e9))
        if not ratios:
            print(f"{scen} {name}: no complete round"); continue
        print(f"{scen} {name:10s} median {statistics.median(ratios):.3f}  rounds " + " ".join(f"{x:.3f}" for x in ratios)
              + f"  | ns/msg {base} {statistics.median(c[0] for c in costs):.0f}, {name} {statistics.median(c[1] for c in costs):.0f}"
              + f"  | msg/s ratio {statistics.median(rates):.3f}  | core busy {100 * statistics.median(busy):.0f} %")
EOF
rm -f "$RAW" "$RAW".*
