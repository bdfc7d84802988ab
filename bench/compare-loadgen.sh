#!/usr/bin/env bash
# bench/compare-loadgen.sh: is `echokit bench` ever the bottleneck? Drives the C epoll reference server
# (baselines/epoll_echo.c) with the C load generator (loadgen/echo_load.c) and with `echokit bench`, back to back,
# alternating, each pinned to the same single core, and prints each pair's message-rate ratio and S1 latency.
#
#   bash bench/compare-loadgen.sh                    S1 S2 S3, 3 rounds of 5 s each (about 2 minutes)
#   ROUNDS=5 DURATION=5 bash bench/compare-loadgen.sh
#   SCENARIOS="S3" ECHOKIT_AOT=1 bash bench/compare-loadgen.sh
#
# The machine may be shared: the two generators run alternately within seconds of each other, and the report
# gives every round's ratio and the median, so a neighbour's burst shows up as spread, not as a wrong answer.
# Output: a Markdown table on stdout and bench/.build/compare-loadgen.md; raw JSON lines in
# bench/.build/compare-loadgen.jsonl. Every step has a time limit.

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
B=$HERE/.build
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
ROUNDS=${ROUNDS:-3}
SCENARIOS=${SCENARIOS:-"S1 S2 S3"}
ECHOKIT_AOT=${ECHOKIT_AOT:-0}
SKIP_PUBLISH=${SKIP_PUBLISH:-0}
SERVER_CORE=${SERVER_CORE:-1}
LOAD_CORE=${LOAD_CORE:-0}
if [ "$(nproc)" -lt 2 ]; then SERVER_CORE=0; LOAD_CORE=0; fi

log() { printf '[compare %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

scenario_args() {
    case $1 in
        S1) echo "--connections 1 --pipeline 1 --size 32" ;;
        S2) echo "--connections 100 --pipeline 1 --size 32" ;;
        S3) echo "--connections 100 --pipeline 16 --size 32" ;;
        S4) echo "--connections 10 --pipeline 4 --size 65536" ;;
    esac
}

SRV_PID=""
cleanup() { [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null; wait 2>/dev/null; return 0; }
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

mkdir -p "$B"
log "building the C server and load generator"
gcc -O2 -o "$B/epoll_echo" "$HERE/baselines/epoll_echo.c" || exit 1
gcc -O2 -o "$B/echo_load" "$HERE/loadgen/echo_load.c" || exit 1

EK_DIR=$B/echokit-compare
if [ "$SKIP_PUBLISH" != 1 ]; then
    log "publishing echokit (Release$([ "$ECHOKIT_AOT" = 1 ] && echo ', Native AOT'))"
    extra=()
    [ "$ECHOKIT_AOT" = 1 ] && extra=(-p:PublishAot=true)
    timeout 600 dotnet publish "$ROOT/src/EchoKit.Cli" -c Release -o "$EK_DIR" \
        --artifacts-path "$B/artifacts-compare" "${extra[@]}" >"$B/compare-publish.log" 2>&1 \
        || { log "publish failed: see $B/compare-publish.log"; exit 1; }
fi
EK=$EK_DIR/echokit

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
taskset -c "$SERVER_CORE" "$B/epoll_echo" "$PORT" 127.0.0.1 >"$B/compare-server.log" 2>&1 &
SRV_PID=$!
for _ in $(seq 50); do
    grep -q listening "$B/compare-server.log" 2>/dev/null && break
    sleep 0.1
done
log "epoll_echo on 127.0.0.1:$PORT (core $SERVER_CORE), load on core $LOAD_CORE, ${DURATION}s + ${WARMUP}s warm-up, $ROUNDS rounds"

RAW=$B/compare-loadgen.jsonl
: >"$RAW"
limit=$(( DURATION + WARMUP + 30 ))
for sc in $SCENARIOS; do
    args=$(scenario_args "$sc")
    for r in $(seq "$ROUNDS"); do
        # Alternate which goes first, so a neighbour's burst does not always hit the same one.
        if [ $((r % 2)) = 1 ]; then
            c=$(timeout "$limit" taskset -c "$LOAD_CORE" "$B/echo_load" --port "$PORT" $args --duration "$DURATION" --warmup "$WARMUP" --json)
            e=$(timeout "$limit" taskset -c "$LOAD_CORE" "$EK" bench "127.0.0.1:$PORT" $args --duration "${DURATION}s" --warmup "${WARMUP}s" --json)
        else
            e=$(timeout "$limit" taskset -c "$LOAD_CORE" "$EK" bench "127.0.0.1:$PORT" $args --duration "${DURATION}s" --warmup "${WARMUP}s" --json)
            c=$(timeout "$limit" taskset -c "$LOAD_CORE" "$B/echo_load" --port "$PORT" $args --duration "$DURATION" --warmup "$WARMUP" --json)
        fi
        python3 - "$sc" "$r" "$c" "$e" >>"$RAW" <<'EOF'
import json, sys
sc, r, c, e = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
try: c = json.loads(c)
except Exception: c = {}
try: e = json.loads(e)
except Exception: e = {}
print(json.dumps({"scenario": sc, "round": r,
    "c_msg_per_s": c.get("msg_per_s"), "c_p50_us": c.get("p50_us"), "c_p99_us": c.get("p99_us"),
    "c_errors": c.get("errors"), "c_mismatches": c.get("mismatches"), "c_cpu_pct": c.get("client_cpu_pct"),
    "ek_msg_per_s": e.get("messages_per_sec"), "ek_p50_us": (e.get("latency_us") or {}).get("p50"),
    "ek_p99_us": (e.get("latency_us") or {}).get("p99"), "ek_errors": e.get("errors"), "ek_mismatches": e.get("mismatches"),
    "ek_cpu_pct": e.get("generator_cpu_pct")}))
EOF
        log "$sc round $r: $(tail -1 "$RAW")"
    done
done

python3 - "$RAW" "$DURATION" "$WARMUP" "$ROUNDS" "$ECHOKIT_AOT" <<'EOF' | tee "$B/compare-loadgen.md"
import json, statistics, sys, subprocess, platform, os
raw, dur, warm, rounds, aot = sys.argv[1:6]
rows = [json.loads(l) for l in open(raw) if l.strip()]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(f"# echokit bench vs echo_load (C), against epoll_echo (C)\n")
print(f"{os.popen('date -u +%Y-%m-%dT%H:%MZ').read().strip()}, {os.cpu_count()} cores ({cpu}), kernel {platform.release()}, "
      f"{dur} s + {warm} s warm-up, {rounds} rounds, echokit {'Native AOT' if aot == '1' else 'JIT (Release)'}; "
      f"server on one core, each generator alone on another, alternating.\n")
# CPU per message: the generator's CPU time (user + system, % of a core while measuring) over its message rate.
# On a shared machine the message rate follows the neighbours; the CPU each generator spends per message does not.
def cpu_us(pct, rate): return pct / 100 / rate * 1e6 if pct and rate else None
print("| Scenario | Round | echo_load msg/s | echokit msg/s | ratio | echo_load / echokit CPU µs per msg | echo_load p50/p99 µs | echokit p50/p99 µs | errors+mismatches (C / ek) |")
print("|---|---|---:|---:|---:|---|---|---|---|")
summary = {}
for r in rows:
    ratio = (r["ek_msg_per_s"] or 0) / r["c_msg_per_s"] if r["c_msg_per_s"] else None
    cc, ce = cpu_us(r["c_cpu_pct"], r["c_msg_per_s"]), cpu_us(r["ek_cpu_pct"], r["ek_msg_per_s"])
    summary.setdefault(r["scenario"], []).append((ratio, r, cc, ce))
    f = lambda v, d=0: "n/a" if v is None else f"{v:,.{d}f}"
    print(f"| {r['scenario']} | {r['round']} | {f(r['c_msg_per_s'])} | {f(r['ek_msg_per_s'])} | {f(ratio, 3)} | "
          f"{f(cc, 2)} / {f(ce, 2)} | "
          f"{f(r['c_p50_us'], 1)} / {f(r['c_p99_us'], 1)} | {f(r['ek_p50_us'])} / {f(r['ek_p99_us'])} | "
          f"{r['c_errors']}+{r['c_mismatches']} / {r['ek_errors']}+{r['ek_mismatches']} |")
print("\n| Scenario | median msg/s ratio (echokit / C) | best-round msg/s ratio | median CPU per message ratio (C / echokit) | median p50 latency ratio (echokit / C) |")
print("|---|---:|---:|---:|---:|")
for sc, items in summary.items():
    ratios = [x for x, *_ in items if x is not None]
    best = max((r["ek_msg_per_s"] or 0) for _, r, *_ in items) / max(r["c_msg_per_s"] or 1 for _, r, *_ in items)
    cpu = [cc / ce for *_, cc, ce in items if cc and ce]
    p50 = [r["ek_p50_us"] / r["c_p50_us"] for _, r, *_ in items if r["ek_p50_us"] and r["c_p50_us"]]
    med = lambda xs: f"{statistics.median(xs):.3f}" if xs else "n/a"
    print(f"| {sc} | {med(ratios)} | {best:.3f} | {med(cpu)} | {med(p50)} |")
EOF
