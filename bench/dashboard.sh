#!/usr/bin/env bash
# The dashboard over the reports bench data (bench/reports-data.sh: CLICKS link clicks, 1,000,000 by default, over
# 5.8 days), release build: how long the start-up count of the rollups takes, then the time of the page over all
# the clicks' days (10 requests, each figure checked against `report summary` once), then the same page while wrk
# drives landing visits (each carrying a known click id, so every visit changes the current hour's figures).
# Prints seconds per page and the server's peak resident memory.
# Usage: bench/dashboard.sh            (CLICKS=1000000 LOAD=10s CONNECTIONS=16 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/opt/swift/usr/bin"
PORT=${PORT:-18310}
LOAD=${LOAD:-10s}
CONNECTIONS=${CONNECTIONS:-16}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

swift build -c release --product clickattr >/dev/null
binary="$(swift build -c release --show-bin-path)/clickattr"
work=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill $server 2>/dev/null; rm -rf "$work"' EXIT
bash bench/reports-data.sh "$binary" "$work"
cat >> "$work/clickattr.yaml" <<CONF
http:
  port: $PORT
api:
  keys: [bench-key]
routes:
  - slug: summer-sale
    destination: https://shop.example.com/summer
CONF
"$binary" serve --config "$work/clickattr.yaml" > "$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 600); do grep -q "dashboard rollups" "$work/serve.log" && break; sleep 0.1; done
grep -o "dashboard rollups.*" "$work/serve.log"

page="http://127.0.0.1:$PORT/dashboard?first_day=2025-11-28&last_day=2025-12-04"
time_page() { curl -s -o "$work/page.html" -w "%{time_total}\n" -H "Authorization: Bearer bench-key" "$page"; }
summary() { sort -n | awk '{ t[NR] = $1 } END { printf "median %.3f s, max %.3f s over %d pages\n", t[int((NR + 1) / 2)], t[NR], NR }'; }

for _ in $(seq 10); do time_page; done | summary | sed 's/^/at rest: /'
expected=$("$binary" report summary --config "$work/clickattr.yaml" --from 2025-11-28 --to 2025-12-05 | tail -1 | cut -d, -f1)
shown=$(grep -o 'data-name="clicks" data-value="[0-9]*"' "$work/page.html" | tr -dc '0-9')
[ "$expected" = "$shown" ] || { echo "FAIL: the page shows $shown clicks, report summary $expected" >&2; exit 1; }
echo "the page's clicks equal report summary: $shown"

# Visits to clicks of the last hour of the data, while pages are timed.
cat > "$work/visits.lua" <<'LUA'
counter = 0
request = function()
    counter = counter + 1
    return wrk.format("GET", "/summer-sale?click_id=c" .. (1000000 - (counter % 7000)))
end
LUA
wrk -t 2 -c "$CONNECTIONS" -d "$LOAD" -s "$work/visits.lua" "http://127.0.0.1:$PORT" > "$work/wrk.txt" &
load=$!
sleep 1
while kill -0 $load 2>/dev/null; do time_page; sleep 0.5; done | summary | sed 's/^/under landing load: /'
grep -E "Requests/sec" "$work/wrk.txt" | sed 's/^/landing during the pages: /'
grep VmHWM "/proc/$server/status"
