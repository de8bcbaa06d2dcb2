#!/usr/bin/env bash
# Reports at scale: fills a SQLite database with CLICKS link clicks, as many visits (80% carrying a
# click's id, some of them bots, the rest orphans), landing page views and conversions, then times
# `report summary` and `report clicks` (release build) and prints their peak memory.
# Usage: bench/reports.sh            (CLICKS=1000000 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/opt/swift/usr/bin"
CLICKS=${CLICKS:-1000000}
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }

swift build -c release --product clickattr >/dev/null
binary="$(swift build -c release --show-bin-path)/clickattr"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bash bench/reports-data.sh "$binary" "$work"

run() { # label, arguments...
    local label=$1
    shift
    /usr/bin/time -f "%e %M" -o "$work/time" "$binary" report "$@" --config "$work/clickattr.yaml" --output "$work/out" 
    read -r seconds kilobytes < "$work/time"
    local rows
    rows=$(wc -l < "$work/out")
    [ "$(head -c 1 "$work/out")" = "{" ] || rows=$((rows - 1))  # CSV has a header line; NDJSON has none
    printf '%-44s %7.2f s   peak memory %6.1f MB   %s rows\n' "$label" "$seconds" "$(echo "$kilobytes / 1024" | bc -l)" \
        "$rows"
}
run "report summary" summary
run "report summary --group-by day,product_id" summary --group-by day,product_id
run "report clicks (csv)" clicks
run "report clicks --format ndjson" clicks --format ndjson
