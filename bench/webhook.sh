#!/usr/bin/env bash
# Webhook intake: starts clickattr (release build) with a temporary config and times signed
# 1000-action deliveries with bench/webhook.py, then checks every click was stored exactly once.
# Usage: bench/webhook.sh [DELIVERIES]   (default 30)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/opt/swift/usr/bin"
DELIVERIES=${1:-30}
PORT=${PORT:-18082}
command -v sqlite3 >/dev/null || { apt-get update -qq && apt-get install -y -qq sqlite3 >/dev/null; }

swift build -c release --product clickattr >/dev/null
binary="$(swift build -c release --show-bin-path)/clickattr"
work=$(mktemp -d)
server_pid=""
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT

cat > "$work/clickattr.yaml" <<CONF
http:
  port: $PORT
storage:
  sqlite:
    path: $work/clickattr.sqlite
webhook:
  app_secret: bench-secret
CONF
"$binary" serve --config "$work/clickattr.yaml" 2>"$work/clickattr.log" &
server_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done

python3 bench/webhook.py "http://127.0.0.1:$PORT/webhooks/whatsapp" bench-secret "$DELIVERIES"
kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=""
stored=$(sqlite3 "$work/clickattr.sqlite" "SELECT count(*) FROM user_actions")
expected=$((DELIVERIES * 1000))
echo "clicks stored: $stored of $expected"
[ "$stored" -eq "$expected" ] || { echo "MISMATCH" >&2; exit 1; }
