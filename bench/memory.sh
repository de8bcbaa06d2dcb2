#!/usr/bin/env bash
# Memory under hostile webhook load: starts clickattr (release build) with a temporary config, runs
# bench/memory.py once per body shape (40 stalled unsigned 4 MiB POSTs while 16 signed 3.9 MiB deliveries
# arrive at once) and fails when the peak resident memory reaches 150 MB or a delivery is not stored.
# Usage: bench/memory.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/opt/swift/usr/bin"
PORT=${PORT:-18083}
command -v sqlite3 >/dev/null || { apt-get update -qq && apt-get install -y -qq sqlite3 >/dev/null; }

swift build -c release --product clickattr >/dev/null
binary="$(swift build -c release --show-bin-path)/clickattr"
work=$(mktemp -d)
server_pid=""
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT
status=0
for shape in many wide; do
  rm -f "$work"/clickattr.sqlite*
  cat > "$work/clickattr.yaml" <<CONF
http:
  port: $PORT
storage:
  sqlite:
    path: $work/clickattr.sqlite
  spool:
    path: $work/spool.sqlite
webhook:
  app_secret: bench-secret
CONF
  "$binary" serve --config "$work/clickattr.yaml" 2>"$work/clickattr.log" &
  server_pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
  out=$(python3 bench/memory.py 127.0.0.1 "$PORT" bench-secret "$server_pid" "$shape")
  echo "$out"
  kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=""
  deliveries=$(sqlite3 "$work/clickattr.sqlite" "SELECT count(*) FROM webhook_deliveries")
  echo "deliveries stored: $deliveries of 16"
  peak=$(echo "$out" | sed -n 's/.*peak \([0-9.]*\) MB.*/\1/p')
  awk -v p="$peak" 'BEGIN { exit !(p < 150) }' || { echo "PEAK $peak MB IS NOT UNDER 150 MB" >&2; status=1; }
  [ "$deliveries" -eq 16 ] || { echo "NOT EVERY DELIVERY WAS STORED" >&2; status=1; }
  echo
done
exit $status
