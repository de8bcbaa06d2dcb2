#!/usr/bin/env bash
# Crash safety: bench/crash.py against the release build, with SIGKILL at random moments (default 10 kills).
# Usage: bench/crash.sh [KILLS] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/opt/swift/usr/bin"
PORT=${PORT:-18084}
swift build -c release --product clickattr >/dev/null 2>&1
binary="$(swift build -c release --show-bin-path)/clickattr"
work=$(mktemp -d)
trap 'pkill -9 -f "$work/clickattr.yaml" 2>/dev/null || true; rm -rf "$work"' EXIT
cat > "$work/clickattr.yaml" <<CONF
http:
  port: $PORT
storage:
  sqlite:
    path: $work/clickattr.sqlite
  spool:
    path: $work/spool.sqlite
webhook:
  app_secret: crash-secret
api:
  keys: [crash-key]
routes:
  - slug: promo
    destination: https://shop.example.com/promo
CONF
python3 bench/crash.py "$binary" "$work/clickattr.yaml" "$work/clickattr.sqlite" "$PORT" crash-secret crash-key "${1:-10}" "${2:-1}"
