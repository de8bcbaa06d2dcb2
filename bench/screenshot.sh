#!/usr/bin/env bash
# Screenshots of the dashboard in a real browser: fills a demo database (`clickattr demo`), starts the release
# binary from an empty folder with its own config, signs in, and takes full-page screenshots at 1440x900
# (desktop, through the login form) and 390x844 (phone, with the bearer header) in Debian's chromium, driven
# by Playwright from PyPI. Fails on a console error or a phone page wider than the phone.
# Usage: bench/screenshot.sh [OUT_DIR]      (UPDATE_DOCS=1 also copies the desktop one to docs/dashboard.png)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/opt/swift/usr/bin"
[ -x /usr/bin/chromium ] || { apt-get update -qq && apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; }
python3 -c "import playwright" 2>/dev/null || pip install -q playwright

swift build -c release --product clickattr >/dev/null
binary="$(swift build -c release --show-bin-path)/clickattr"
work=$(mktemp -d)
out=${1:-$work}
mkdir -p "$out"
port=${PORT:-18190}
cat > "$work/clickattr.yaml" <<CONF
http:
  port: $port
storage:
  sqlite:
    path: data/clickattr.sqlite
api:
  keys: [screenshot-key]
routes:
  - slug: summer-sale
    destination: https://shop.example.com/summer?utm_source=whatsapp
  - slug: catalogue
    destination: https://shop.example.com/catalogue
    mode: landing
CONF
cd "$work"
"$binary" demo --config clickattr.yaml --seed "${SEED:-7}"
"$binary" serve --config clickattr.yaml > serve.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work/data"' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
cd - >/dev/null
python3 bench/screenshot.py "http://127.0.0.1:$port" screenshot-key "$out"
if [ "${UPDATE_DOCS:-0}" = 1 ]; then cp "$out/dashboard-1440.png" docs/dashboard.png; echo "docs/dashboard.png updated"; fi
