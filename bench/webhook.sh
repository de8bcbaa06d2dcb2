#!/usr/bin/env bash
# Webhook intake: starts clickattr (release build) with a temporary config and times signed
# 1000-action deliveries with bench/webhook.py, then checks every click was stored exactly once.
# Usage: bench/webhook.sh [DELIVERIES]   (default 30)
#        STORAGE=postgres bench/webhook.sh   (into a throwaway PostgreSQL on the same cores)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/pg.sh
export PATH="$PATH:/opt/swift/usr/bin"
DELIVERIES=${1:-30}
PORT=${PORT:-18082}
STORAGE=${STORAGE:-sqlite}
PG_PORT=${PG_PORT:-18433}
command -v sqlite3 >/dev/null || { apt-get update -qq && apt-get install -y -qq sqlite3 >/dev/null; }

swift build -c release --product clickattr >/dev/null
binary="$(swift build -c release --show-bin-path)/clickattr"
work=$(mktemp -d)
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    [ "$STORAGE" = postgres ] && stop_pg "$work/pg"
    rm -rf "$work"
}
trap cleanup EXIT

storage=$(storage_block "$STORAGE" "$work" "$PG_PORT")
cat > "$work/clickattr.yaml" <<CONF
http:
  port: $PORT
storage:
$storage
webhook:
  app_secret: bench-secret
CONF
"$binary" serve --config "$work/clickattr.yaml" 2>"$work/clickattr.log" &
server_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done

python3 bench/webhook.py "http://127.0.0.1:$PORT/webhooks/whatsapp" bench-secret "$DELIVERIES"
kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=""
if [ "$STORAGE" = postgres ]; then
    stored=$(pg_query "$PG_PORT" "SELECT count(*) FROM user_actions")
else
    stored=$(sqlite3 "$work/clickattr.sqlite" "SELECT count(*) FROM user_actions")
fi
expected=$((DELIVERIES * 1000))
echo "clicks stored: $stored of $expected"
[ "$stored" -eq "$expected" ] || { echo "MISMATCH" >&2; exit 1; }
