#!/usr/bin/env bash
# bench/fuzz/run.sh: coverage-guided fuzzing of the PROXY header parser and the endpoint parser
# (SharpFuzz-instrumented EchoKit.Core.dll under AFL++), each for a bounded time.
#
#   bash bench/fuzz/run.sh                 both targets, 60 s each
#   SECONDS_PER_TARGET=600 TARGETS=proxy bash bench/fuzz/run.sh
#
# Needs afl-fuzz (apt-get install afl++) and the sharpfuzz tool (dotnet tool install SharpFuzz.CommandLine
# --version 2.3.0 --tool-path DIR; set SHARPFUZZ=DIR/sharpfuzz, or have it on PATH). Publishes the harness
# into bench/fuzz/.build/, instruments EchoKit.Core.dll there, runs afl-fuzz per target with the seeds in
# bench/fuzz/corpus/TARGET, and prints executions, coverage (AFL's bitmap), paths found and crashes.
# Crashing inputs are kept in bench/fuzz/.build/TARGET/default/crashes/: each becomes a regression test
# (tests/EchoKit.Tests/Properties). Exit 1 if any target found a crash.

set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
B=$HERE/.build
SECONDS_PER_TARGET=${SECONDS_PER_TARGET:-60}
TARGETS=${TARGETS:-"proxy endpoint"}
SHARPFUZZ=${SHARPFUZZ:-$(command -v sharpfuzz || echo /tmp/ek-fuzz-tools/sharpfuzz)}

command -v afl-fuzz >/dev/null || { echo "afl-fuzz not found: apt-get install afl++" >&2; exit 2; }
[ -x "$SHARPFUZZ" ] || { echo "sharpfuzz not found: dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path /tmp/ek-fuzz-tools" >&2; exit 2; }

mkdir -p "$B"
echo "[fuzz] publishing the harness (Release) into $B/out" >&2
if ! timeout -k 10 900 dotnet publish "$HERE/EchoKit.Fuzz.csproj" -c Release -o "$B/out" --artifacts-path "$B/artifacts" -nologo >"$B/publish.log" 2>&1; then
    echo "[fuzz] publish failed, see $B/publish.log" >&2; exit 2
fi
echo "[fuzz] instrumenting EchoKit.Core.dll" >&2
"$SHARPFUZZ" "$B/out/EchoKit.Core.dll" >"$B/instrument.log" 2>&1 || grep -q "already instrumented" "$B/instrument.log" || { cat "$B/instrument.log" >&2; exit 2; }

export AFL_SKIP_BIN_CHECK=1 AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1
crashes_total=0
printf '| target | seconds | executions | exec/s | paths (corpus) | bitmap coverage | crashes | hangs |\n|---|---|---|---|---|---|---|---|\n'
for t in $TARGETS; do
    rm -rf "$B/$t"
    # -t: per input, generous for a .NET process under load; -V: stop after the given seconds.
    timeout -k 10 $((SECONDS_PER_TARGET + 120)) afl-fuzz -i "$HERE/corpus/$t" -o "$B/$t" -t 5000 -V "$SECONDS_PER_TARGET" \
        -- dotnet "$B/out/EchoKit.Fuzz.dll" "$t" >"$B/$t.log" 2>&1
    stats=$B/$t/default/fuzzer_stats
    if [ ! -f "$stats" ]; then
        echo "| $t | n/a: afl-fuzz did not start (see $B/$t.log) | | | | | | |"; crashes_total=$((crashes_total + 1)); continue
    fi
    get() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
    crashes=$(get saved_crashes); crashes=${crashes:-$(get unique_crashes)}
    hangs=$(get saved_hangs); hangs=${hangs:-$(get unique_hangs)}
    echo "| $t | $(get run_time) | $(get execs_done) | $(get execs_per_sec) | $(get corpus_count) | $(get bitmap_cvg) | ${crashes:-0} | ${hangs:-0} |"
    crashes_total=$((crashes_total + ${crashes:-0}))
done
[ "$crashes_total" -eq 0 ]
