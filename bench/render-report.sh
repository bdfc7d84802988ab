#!/usr/bin/env bash
# bench/render-report.sh: renders an `echokit bench --report` page in headless Chromium, checks that its three
# charts were drawn, and saves a screenshot.
#
#   bash bench/render-report.sh                       makes a report first (echokit serve + echokit bench, ~4 s)
#   bash bench/render-report.sh REPORT.html [OUT.png] renders an existing report
#
# Needs Debian's chromium (apt-get install -y chromium). The page is opened from a file with networking off,
# which is how the report must work: self-contained, no network. Exit 0 when every chart reports points drawn.

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
B=$HERE/.build
mkdir -p "$B"
REPORT=${1:-}
OUT=${2:-$B/report.png}
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
[ -n "$CHROMIUM" ] || { echo "render-report: chromium not found (apt-get install -y chromium)" >&2; exit 1; }

SRV_PID=""
PROFILE=$(mktemp -d)
cleanup() { [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null; rm -rf "$PROFILE"; return 0; }
trap cleanup EXIT

if [ -z "$REPORT" ]; then
    REPORT=$B/report.html
    EK_DIR=$B/echokit-report
    echo "render-report: building echokit" >&2
    timeout 600 dotnet build "$ROOT/src/EchoKit.Cli" -c Release -o "$EK_DIR" \
        --artifacts-path "$B/artifacts-report" >"$B/report-build.log" 2>&1 || { echo "render-report: build failed, see $B/report-build.log" >&2; exit 1; }
    EK=$EK_DIR/echokit
    "$EK" serve --tcp 127.0.0.1:0 --quiet >"$B/report-server.log" 2>&1 &
    SRV_PID=$!
    PORT=""
    for _ in $(seq 100); do
        PORT=$(sed -n 's#.*listening tcp://127.0.0.1:\([0-9]*\).*#\1#p' "$B/report-server.log" | head -1)
        [ -n "$PORT" ] && break
        sleep 0.1
    done
    [ -n "$PORT" ] || { echo "render-report: echokit serve did not start" >&2; exit 1; }
    timeout 60 "$EK" bench "127.0.0.1:$PORT" --connections 8 --pipeline 4 --duration 3s --warmup 1s --report "$REPORT" \
        || { echo "render-report: the bench run failed" >&2; exit 1; }
fi
[ -f "$REPORT" ] || { echo "render-report: no such file: $REPORT" >&2; exit 1; }
URL="file://$(cd "$(dirname "$REPORT")" && pwd)/$(basename "$REPORT")"
FLAGS=(--headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update
       --disable-sync --no-first-run --user-data-dir="$PROFILE" --hide-scrollbars)

timeout 60 "$CHROMIUM" "${FLAGS[@]}" --screenshot="$OUT" --window-size=1200,2400 "$URL" >"$B/report-chromium.log" 2>&1
[ -s "$OUT" ] || { echo "render-report: no screenshot (see $B/report-chromium.log)" >&2; exit 1; }

# The DOM after the script ran: each chart sets data-drawn to the number of points it plotted.
DOM=$(timeout 60 "$CHROMIUM" "${FLAGS[@]}" --dump-dom "$URL" 2>>"$B/report-chromium.log")
status=0
for chart in spectrum throughput p99; do
    drawn=$(grep -o "<svg id=\"$chart\"[^>]*>" <<<"$DOM" | sed -n 's/.*data-drawn="\([0-9]*\)".*/\1/p')
    paths=$(awk -v id="$chart" 'BEGIN{RS="</svg>"} index($0, "id=\"" id "\"") { n = gsub(/class="series"/, "&"); print n }' <<<"$DOM")
    if [ -n "$drawn" ] && [ "$drawn" -gt 0 ] && [ "${paths:-0}" -ge 1 ]; then
        echo "render-report: chart $chart drawn ($drawn points)"
    else
        echo "render-report: chart $chart NOT drawn (data-drawn='${drawn}', series paths ${paths:-0})" >&2
        status=1
    fi
done
echo "render-report: screenshot $OUT"
exit $status
