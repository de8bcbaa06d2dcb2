#!/usr/bin/env bash
# The data of bench/reports.sh and bench/dashboard.sh: fills a new SQLite database in the folder WORK with CLICKS link
# clicks every 0.5 s from 2025-11-28T12:00:00Z, as many visits (80% carrying a click's id, one in ten of those a
# bot, the rest orphans), a landing page view for one click in five and a purchase for one in twenty, and writes
# WORK/clickattr.yaml pointing at it.
# Usage: bench/reports-data.sh BINARY WORK      (CLICKS=1000000 by default)
set -euo pipefail
binary=$1
work=$2
CLICKS=${CLICKS:-1000000}
command -v sqlite3 >/dev/null || { apt-get update -qq && apt-get install -y -qq sqlite3 >/dev/null; }
cat > "$work/clickattr.yaml" <<CONF
storage:
  sqlite:
    path: $work/clickattr.sqlite
  spool:
    path: $work/spool.sqlite
CONF
"$binary" migrate --config "$work/clickattr.yaml" >/dev/null

echo "generating $CLICKS clicks and $CLICKS visits..."
start=$(date +%s.%N)
sqlite3 "$work/clickattr.sqlite" >/dev/null <<SQL
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
BEGIN;
INSERT INTO webhook_deliveries (id, body_sha256, body, received_at, last_received_at, source)
VALUES (1, 'bench', x'7b7d', 1764331200000, 1764331200000, 'import');
-- Clicks every 0.5 s from 2025-11-28T12:00:00Z.
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $CLICKS)
INSERT INTO user_actions (action_key, delivery_id, action_type, occurred_at, received_at, waba_id, phone_number_id,
    display_phone_number, click_id, tracking_token, click_component, product_id, raw)
SELECT 'click-' || i, 1, 'marketing_messages_link_click', 1764331200000 + i * 500, 1764331200000 + i * 500,
    'waba_' || (i % 3), '1065403522429' || (i % 3), '15550783881', 'c' || i, 'tt' || i,
    CASE i % 3 WHEN 0 THEN 'body' ELSE 'cta' END, 'sku_' || (i % 50), '{}'
FROM n;
-- A landing page view for one click in five.
WITH RECURSIVE n(i) AS (SELECT 5 UNION ALL SELECT i + 5 FROM n WHERE i + 5 <= $CLICKS)
INSERT INTO user_actions (action_key, delivery_id, action_type, occurred_at, received_at, click_id, tracking_token, raw)
SELECT 'view-' || i, 1, 'landing_page_view', 1764331200000 + i * 500 + 3000, 1764331200000, 'c' || i, 'tt' || i, '{}'
FROM n;
-- Visits: 80% carry a click id (one in ten of those a bot), 20% are orphans; latency 0.2 s to 20 s.
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $CLICKS)
INSERT INTO visits (visited_at, method, path, slug, click_id, click_parameters, visitor_id, user_agent, ip, is_bot, bot_reason)
SELECT 1764331200000 + i * 500 + 200 + (i * 7919) % 20000, 'GET', '/summer-sale', 'summer-sale',
    CASE WHEN i % 5 = 0 THEN 'orphan-' || i ELSE 'c' || i END, NULL, 'v' || i,
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X)', '203.0.113.0',
    CASE WHEN i % 10 = 1 THEN 1 ELSE 0 END, CASE WHEN i % 10 = 1 THEN 'meta_crawler' END
FROM n;
-- A purchase for one click in twenty.
WITH RECURSIVE n(i) AS (SELECT 20 UNION ALL SELECT i + 20 FROM n WHERE i + 20 <= $CLICKS)
INSERT INTO conversions (event, order_id, click_id, value_micros, currency, occurred_at, received_at, source)
SELECT 'purchase', 'o' || i, 'c' || i, 10000000 + (i % 100) * 10000, 'EUR', 1764331200000 + i * 500 + 600000,
    1764331200000, 'api'
FROM n;
COMMIT;
ANALYZE;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
printf 'generated in %.1f s: ' "$(echo "$(date +%s.%N) - $start" | bc -l)"
sqlite3 "$work/clickattr.sqlite" "SELECT (SELECT count(*) FROM user_actions WHERE action_type = 'marketing_messages_link_click') || ' clicks, ' || (SELECT count(*) FROM visits) || ' visits, ' || (SELECT count(*) FROM conversions) || ' conversions'"

