#!/usr/bin/env bash
# bench/soak.sh: a long churn against one echokit server; is anything leaking?
#
#   bash bench/soak.sh                     10 minutes (600 s), 16 workers
#   SOAK_SECONDS=120 bash bench/soak.sh    a shorter run (label it so when you quote it)
#
# Starts `echokit serve` (Release build in bench/.build/echokit, published unless SKIP_PUBLISH=1) with a plain
# TCP and a TLS listener (a throwaway self-signed certificate), drives bench/reliability/soak_load.py at it
# (connects and closes, 1 B to 256 KiB echoes in random pieces, half-closes, RSTs mid-transfer, TLS on 40% of the echoes and bare
# connects), and samples the server every SAMPLE_SECONDS (default 10): open fds, RSS, threads, and the load's
# counters. Prints a Markdown table and a verdict: after the warm-up (the first WARMUP_SAMPLES samples, default
# 3), fds and threads must stay within a small band and RSS must not keep growing (last third vs middle third
# under +20%), with zero mismatches and zero errors. Exit 0 if so, 1 if not.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
B=$HERE/.build
SOAK_SECONDS=${SOAK_SECONDS:-600}
SAMPLE_SECONDS=${SAMPLE_SECONDS:-10}
WARMUP_SAMPLES=${WARMUP_SAMPLES:-3}
WORKERS=${WORKERS:-16}
ECHOKIT=${ECHOKIT:-$B/echokit/echokit}
W=$(mktemp -d /tmp/echokit-soak.XXXXXX)
SRV=""; LOAD=""
cleanup() {
    [ -n "$LOAD" ] && kill "$LOAD" 2>/dev/null
    [ -n "$SRV" ] && { kill -TERM "$SRV" 2>/dev/null; wait "$SRV" 2>/dev/null; }
    rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "${SKIP_PUBLISH:-0}" != 1 ] && [ "$ECHOKIT" = "$B/echokit/echokit" ]; then
    echo "[soak] publishing EchoKit (Release) into $B/echokit" >&2
    (cd "$ROOT" && timeout -k 10 900 dotnet publish src/EchoKit.Cli -c Release --artifacts-path "$B/artifacts" -o "$B/echokit" -nologo) >"$W/publish.log" 2>&1 \
        || { cat "$W/publish.log" >&2; exit 2; }
fi
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/key.pem" -out "$W/cert.pem" -days 2 -subj /CN=localhost >/dev/null 2>&1 \
    || { echo "[soak] openssl could not make a certificate" >&2; exit 2; }

"$ECHOKIT" serve --tcp 127.0.0.1:0 --tls 127.0.0.1:0 --tls-cert "$W/cert.pem" --tls-key "$W/key.pem" --quiet >"$W/serve.out" 2>"$W/serve.err" &
SRV=$!
for _ in $(seq 300); do [ "$(grep -c '^listening' "$W/serve.out")" -ge 2 ] && break; sleep 0.1; done
TCP=$(sed -n 's|^listening tcp://127.0.0.1:\([0-9]*\)$|\1|p' "$W/serve.out")
TLS=$(sed -n 's|^listening tls://127.0.0.1:\([0-9]*\)$|\1|p' "$W/serve.out")
[ -n "$TCP" ] && [ -n "$TLS" ] || { echo "[soak] server did not start:" >&2; cat "$W/serve.out" "$W/serve.err" >&2; exit 2; }

python3 "$HERE/reliability/soak_load.py" --tcp "$TCP" --tls "$TLS" --seconds "$SOAK_SECONDS" --workers "$WORKERS" --stats "$W/stats.jsonl" &
LOAD=$!
echo "[soak] server pid $SRV (tcp $TCP, tls $TLS), $SOAK_SECONDS s, sample every $SAMPLE_SECONDS s" >&2
printf '| t (s) | fds | RSS (MiB) | threads | ops | echoes | half-closes | resets | TLS | MiB echoed | mismatches | errors |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n'
: >"$W/samples"
start=$SECONDS
while kill -0 "$LOAD" 2>/dev/null; do
    sleep "$SAMPLE_SECONDS"; t=$((SECONDS - start)) # real seconds: sampling itself takes time on a busy machine
    kill -0 "$SRV" 2>/dev/null || { echo "[soak] the server died" >&2; exit 1; }
    fds=$(ls "/proc/$SRV/fd" | wc -l)
    rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$SRV/status")
    thr=$(awk '/^Threads:/ { print $2 }' "/proc/$SRV/status")
    s=$(tail -n 1 "$W/stats.jsonl" 2>/dev/null || echo '{}')
    echo "$t $fds $rss $thr" >>"$W/samples"
    python3 - "$t" "$fds" "$rss" "$thr" "$s" <<'PY'
import json, sys
t, fds, rss, thr, s = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], json.loads(sys.argv[5] or "{}")
g = lambda k: s.get(k, 0)
print(f"| {t} | {fds} | {rss / 1024:.1f} | {thr} | {g('ops')} | {g('echo')} | {g('halfclose')} | {g('reset')} | {g('tls')} | {g('bytes') / 1048576:.1f} | {g('mismatches')} | {g('errors')} |")
PY
done
wait "$LOAD"; load_rc=$?; LOAD=""
final=$(tail -n 1 "$W/stats.jsonl")
python3 - "$W/samples" "$WARMUP_SAMPLES" "$final" <<'PY'
import json, sys
rows = [list(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
warm = int(sys.argv[2]); final = json.loads(sys.argv[3])
after = rows[warm:] or rows
fds = [r[1] for r in after]; rss = [r[2] for r in after]; thr = [r[3] for r in after]
third = max(1, len(rss) // 3)
mid = sum(rss[third:2 * third] or rss) / len(rss[third:2 * third] or rss)
last = sum(rss[-third:]) / third
ok = final["mismatches"] == 0 and final["errors"] == 0 and last < mid * 1.2 and max(thr) - min(thr) <= 8 and max(fds) - min(fds) <= 64
print()
print(f"After warm-up ({len(after)} samples): fds {min(fds)}-{max(fds)}, threads {min(thr)}-{max(thr)}, "
      f"RSS {min(rss)/1024:.1f}-{max(rss)/1024:.1f} MiB (last third {last/1024:.1f} vs middle third {mid/1024:.1f} MiB). "
      f"{final['ops']} operations, {final['bytes']/1048576:.1f} MiB echoed, {final['mismatches']} mismatches, {final['errors']} errors"
      + (f" (last: {final['last_error']})" if final['errors'] else "") + ".")
print("Verdict: " + ("flat, no leak seen" if ok else "NOT flat or not exact: see above"))
sys.exit(0 if ok else 1)
PY
