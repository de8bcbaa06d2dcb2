#!/usr/bin/env bash
# A full disk, as decided: visitors are still redirected (the visits that cannot be stored are logged whole and
# counted), webhooks are answered 503 so Meta retries, nothing is corrupted, and storing resumes once there is
# room again. Puts the database on a 3 MiB tmpfs (needs root, for mount), fills it with taps, then grows it.
# Usage: bench/fulldisk.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/opt/swift/usr/bin"
PORT=${PORT:-18085}
command -v sqlite3 >/dev/null || { apt-get update -qq && apt-get install -y -qq sqlite3 >/dev/null; }
swift build -c release --product clickattr >/dev/null 2>&1
binary="$(swift build -c release --show-bin-path)/clickattr"
work=$(mktemp -d)
mkdir "$work/disk"
mount -t tmpfs -o size=3m tmpfs "$work/disk"
server_pid=""
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; sleep 0.5; umount "$work/disk"; rm -rf "$work"' EXIT
cat > "$work/clickattr.yaml" <<CONF
http:
  port: $PORT
storage:
  sqlite:
    path: $work/disk/clickattr.sqlite
  spool:
    path: $work/disk/spool.sqlite
webhook:
  app_secret: full-secret
routes:
  - slug: promo
    destination: https://shop.example.com/promo
CONF
"$binary" serve --config "$work/clickattr.yaml" 2>"$work/log" &
server_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done

taps=$(curl -s -o /dev/null -w '%{http_code}\n' -A 'Mozilla/5.0 (iPhone)' "http://127.0.0.1:$PORT/promo?click_id=fill-[1-12000]" | sort | uniq -c | tr -s ' ')
echo "12000 taps on a 3 MiB disk, answers:$taps"
echo "disk: $(df -h "$work/disk" | tail -1 | awk '{print $5}') used; visits logged as not stored: $(grep -c 'visit not stored' "$work/log")"
body="{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"1\",\"changes\":[{\"field\":\"messages\",\"value\":{\"user_actions\":[{\"action_type\":\"marketing_messages_link_click\",\"timestamp\":\"1764331200\",\"marketing_messages_link_click_data\":{\"click_id\":\"$(head -c 4000 /dev/zero | tr '\0' 'x')\"}}]}}]}]}"
signature=$(printf '%s' "$body" | openssl dgst -sha256 -hmac full-secret | awk '{print $2}')
webhook() { curl -s -o /dev/null -w '%{http_code}' -X POST -H "X-Hub-Signature-256: sha256=$signature" --data "$body" "http://127.0.0.1:$PORT/webhooks/whatsapp"; }
echo "a webhook delivery while the disk is full: $(webhook)"
mount -o remount,size=32m "$work/disk"
echo "after the disk grew: a tap $(curl -s -o /dev/null -w '%{http_code}' -A 'Mozilla/5.0 (iPhone)' "http://127.0.0.1:$PORT/promo?click_id=after-room"), the same delivery $(webhook)"
kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=""
echo "integrity_check: $(sqlite3 "$work/disk/clickattr.sqlite" 'PRAGMA integrity_check')"
echo "the tap after the disk grew stored: $(sqlite3 "$work/disk/clickattr.sqlite" "SELECT count(*) FROM visits WHERE click_id = 'after-room'")"
