#!/usr/bin/env bash
# The landing hot path, side by side on 127.0.0.1 with wrk:
#   (a) clickattr, release build, recording every visit (SQLite, WAL, synchronous=FULL, group commit);
#   (b) nginx `return 302` with an access_log that records the click id (the do-it-yourself alternative);
#   (c) clickattr's /healthz, which parses and stores nothing: the framework's ceiling on this machine.
# Prints requests/s and p50/p99 latency of each, the ratio a/b, clickattr's peak resident memory, and
# checks that the visits stored equal the 302 answers wrk counted; also the share of the cores that the host took
# (steal) during (a) and (b): on a shared VM that share moves, and a ratio is only fair when both runs had the same.
# Usage: bench/landing.sh            (CONNECTIONS=64 DURATION=10s THREADS=2 by default)
#        PERF=1 bench/landing.sh     also records the server with perf during (a) and prints its CPU microseconds
#        per request by component (bench/perf-split.py); perf's sampling costs the server a little throughput.
#        STORAGE=postgres bench/landing.sh   (a) on a throwaway PostgreSQL on the same cores, visits through the
#        instance's spool; also prints the spool depth when the load stops, how long it takes to drain, and the
#        lag of one visit from its 302 to the database at rest.
#        BINARY=path bench/landing.sh   runs that clickattr binary (an earlier build, for a before/after) instead of
#        building this checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/pg.sh
STORAGE=${STORAGE:-sqlite}
PG_PORT=${PG_PORT:-18432}

CONNECTIONS=${CONNECTIONS:-64}
# Every connection is a descriptor in wrk, nginx and clickattr alike.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CLICKATTR_PORT=${CLICKATTR_PORT:-18080}
NGINX_PORT=${NGINX_PORT:-18081}
export PATH="$PATH:/opt/swift/usr/bin:/usr/sbin"

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || need+=(nginx-light)
command -v sqlite3 >/dev/null || need+=(sqlite3)
command -v bc >/dev/null || need+=(bc)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ -n "${BINARY:-}" ]; then
    binary=$BINARY
else
    swift build -c release --product clickattr >/dev/null
    binary="$(swift build -c release --show-bin-path)/clickattr"
fi

work=$(mktemp -d)
server_pid=""
nginx_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null || true
    [ "$STORAGE" = postgres ] && stop_pg "$work/pg"
    rm -rf "$work"
}
trap cleanup EXIT
[ -n "${KEEP_PERF:-}" ] && trap 'cp "$work/perf.data" "$KEEP_PERF" 2>/dev/null; cleanup' EXIT

# Every request carries its own click id; each wrk thread counts the 302s it received.
cat > "$work/taps.lua" <<'LUA'
local threads = {}
function setup(thread)
    thread:set("id", #threads)
    table.insert(threads, thread)
end
function init(args)
    n = 0
    redirects = 0
end
function request()
    n = n + 1
    return wrk.format("GET", "/bench?click_id=c" .. id .. "-" .. n .. "&fbclid=IwAR" .. n, {
        ["User-Agent"] = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"
    })
end
function response(status, headers, body)
    if status == 302 then redirects = redirects + 1 end
end
function done(summary, latency, requests)
    local total = 0
    for _, thread in ipairs(threads) do total = total + thread:get("redirects") end
    io.write(string.format("REDIRECTS %d\n", total))
    io.write(string.format("P50_US %d\nP99_US %d\n", latency:percentile(50), latency:percentile(99)))
end
LUA

run_wrk() { # url duration -> wrk output
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$2" --latency -s "$work/taps.lua" "$1"
}
field() { awk -v k="$1" '$1 == k { print $2 }' <<<"$2"; }
# The machine's CPU time as /proc/stat counts it (all cores): total, and stolen by the host.
cpu_stat() { awk '$1 == "cpu" { total = 0; for (i = 2; i <= NF; i++) total += $i; print total, $9 }' /proc/stat; }
stolen() { # stat-before stat-after -> percent of the cores' time the host took
    echo "$1 $2" | awk '{ printf "%.0f", ($3 - $1 > 0) ? 100 * ($4 - $2) / ($3 - $1) : 0 }'
}
rps() { awk '/^Requests\/sec:/ { print $2 }' <<<"$1"; }

# (b) nginx
mkdir -p "$work/nginx/logs"
cat > "$work/nginx/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
    log_format clicks '\$msec \$remote_addr "\$arg_click_id" "\$http_user_agent" "\$http_referer" \$status';
    access_log $work/nginx/logs/access.log clicks;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location /bench { return 302 https://shop.example.com/landing?\$args; }
    }
}
CONF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' &
nginx_pid=$!
sleep 0.5
run_wrk "http://127.0.0.1:$NGINX_PORT/bench" 2s >/dev/null
stat_before=$(cpu_stat)
nginx_out=$(run_wrk "http://127.0.0.1:$NGINX_PORT/bench" "$DURATION")
nginx_stolen=$(stolen "$stat_before" "$(cpu_stat)")
kill "$nginx_pid"; wait "$nginx_pid" 2>/dev/null || true; nginx_pid=""
nginx_logged=$(wc -l < "$work/nginx/logs/access.log")
# nginx's access log is still being written back to disk after its run; flush it now, so that its writeback is
# not charged to clickattr's fsyncs during (a).
sync

# (a) clickattr
storage=$(storage_block "$STORAGE" "$work" "$PG_PORT")
cat > "$work/clickattr.yaml" <<CONF
http:
  port: $CLICKATTR_PORT
storage:
$storage
tracking:
  click_id_params: [click_id, fbclid]
routes:
  - slug: bench
    destination: https://shop.example.com/landing
    mode: redirect
    passthrough_query: true
CONF
"$binary" serve --config "$work/clickattr.yaml" 2>"$work/clickattr.log" &
server_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$CLICKATTR_PORT/readyz" >/dev/null && break; sleep 0.1; done
warm=$(run_wrk "http://127.0.0.1:$CLICKATTR_PORT/bench" 2s)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$server_pid/stat"; }
if [ "${PERF:-0}" = 1 ]; then
    perf record -F 999 -g -p "$server_pid" -o "$work/perf.data" >/dev/null 2>&1 &
    perf_pid=$!
    sleep 0.5
fi
ticks_before=$(cpu_ticks)
stat_before=$(cpu_stat)
clickattr_out=$(run_wrk "http://127.0.0.1:$CLICKATTR_PORT/bench" "$DURATION")
clickattr_stolen=$(stolen "$stat_before" "$(cpu_stat)")
ticks_after=$(cpu_ticks)
if [ "${PERF:-0}" = 1 ]; then kill -INT "$perf_pid"; wait "$perf_pid" 2>/dev/null || true; fi
# Visits are on disk in the spool before their 302; the database gets them in batches. How many wait when the
# load stops, how long they take to reach the database, and how long one visit at rest takes.
spooled() { curl -s "http://127.0.0.1:$CLICKATTR_PORT/readyz" | sed -E 's/.*"spooled_visits":([0-9]+).*/\1/'; }
depth_at_end=$(spooled)
drain_start=$(date +%s%N)
while [ "$(spooled)" != 0 ]; do sleep 0.05; done
drain_ms=$(( ($(date +%s%N) - drain_start) / 1000000 ))
probe_count() {
    if [ "$STORAGE" = postgres ]; then pg_query "$PG_PORT" "SELECT count(*) FROM visits WHERE click_id = 'lag-probe'"
    else sqlite3 "$work/clickattr.sqlite" "SELECT count(*) FROM visits WHERE click_id = 'lag-probe'"; fi
}
lag_start=$(date +%s%N)
curl -s -o /dev/null "http://127.0.0.1:$CLICKATTR_PORT/bench?click_id=lag-probe"
while [ "$(probe_count)" = 0 ]; do sleep 0.01; done
lag_ms=$(( ($(date +%s%N) - lag_start) / 1000000 ))
# (c) the same server's /healthz: the framework's own ceiling on this machine, with nothing to parse or store.
health_out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "http://127.0.0.1:$CLICKATTR_PORT/healthz")
peak_kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$server_pid/status")
kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=""

answered=$(( $(field REDIRECTS "$warm") + $(field REDIRECTS "$clickattr_out") ))
# The lag probe is one more visit, answered outside wrk.
answered=$((answered + 1))
if [ "$STORAGE" = postgres ]; then
    stored=$(pg_query "$PG_PORT" "SELECT count(*) FROM visits")
    distinct=$(pg_query "$PG_PORT" "SELECT count(DISTINCT visit_key) FROM visits")
    [ "$distinct" = "$stored" ] || { echo "DOUBLED: $stored visits but $distinct keys" >&2; exit 1; }
else
    stored=$(sqlite3 "$work/clickattr.sqlite" "SELECT count(*) FROM visits")
fi

a_rps=$(rps "$clickattr_out"); b_rps=$(rps "$nginx_out")
printf '\n%-34s %12s %10s %10s\n' "$CONNECTIONS connections, $DURATION, $THREADS wrk threads" "requests/s" "p50 ms" "p99 ms"
printf '%-34s %12.0f %10.2f %10.2f\n' "(a) clickattr ($STORAGE), every visit" "$a_rps" \
    "$(echo "$(field P50_US "$clickattr_out") / 1000" | bc -l)" "$(echo "$(field P99_US "$clickattr_out") / 1000" | bc -l)"
printf '%-34s %12.0f %10.2f %10.2f\n' "(b) nginx return 302 + access_log" "$b_rps" \
    "$(echo "$(field P50_US "$nginx_out") / 1000" | bc -l)" "$(echo "$(field P99_US "$nginx_out") / 1000" | bc -l)"
c_rps=$(rps "$health_out")
percentile_ms() { # 50%|99%, wrk output with --latency -> milliseconds
    awk -v p="$1" '$1 == p { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
        print (u == "us" ? v / 1000 : (u == "s" ? v * 1000 : v)) }' <<<"$2"
}
printf '%-34s %12.0f %10.2f %10.2f\n' "(c) clickattr GET /healthz" "$c_rps" \
    "$(percentile_ms 50% "$health_out")" "$(percentile_ms 99% "$health_out")"
printf 'ratio a/b: %.2f   framework ceiling c/b: %.2f   a/c: %.2f\n' "$(echo "$a_rps / $b_rps" | bc -l)" \
    "$(echo "$c_rps / $b_rps" | bc -l)" "$(echo "$a_rps / $c_rps" | bc -l)"
printf 'CPU taken by the host (steal): %d%% during (a), %d%% during (b)\n' "$clickattr_stolen" "$nginx_stolen"
printf 'clickattr peak resident memory: %.1f MB\n' "$(echo "$peak_kb / 1024" | bc -l)"
printf 'nginx access log lines: %d\n' "$nginx_logged"
printf 'clickattr 302 answers (warm-up + run): %d, visits stored: %d\n' "$answered" "$stored"
# wrk's own count of connect, read, write and timeout errors, and of answers other than 2xx/3xx, for (a).
wrk_errors() { grep -E "Socket errors|Non-2xx" <<<"$1" | sed 's/^ *//' | paste -sd ';' || true; }
printf 'wrk errors during (a): %s\n' "$(wrk_errors "$clickattr_out" | grep . || echo none)"
errors=$(grep -c "visit not stored" "$work/clickattr.log" || true)
printf 'visits logged as not stored: %d\n' "$errors"
run_requests=$(awk '/requests in/ { print $1 }' <<<"$clickattr_out")
cpu_seconds=$(echo "($ticks_after - $ticks_before) / $(getconf CLK_TCK)" | bc -l)
printf 'clickattr CPU during the run: %.1f us per request (%d requests)\n' "$(echo "$cpu_seconds * 1000000 / $run_requests" | bc -l)" "$run_requests"
if [ "${PERF:-0}" = 1 ]; then python3 bench/perf-split.py "$work/perf.data" "$run_requests" "$cpu_seconds"; fi
database=$([ "$STORAGE" = postgres ] && echo PostgreSQL || echo "the SQLite database")
printf 'spool depth when the load stopped: %d visits; drained into %s in %d ms\n' "$depth_at_end" "$database" "$drain_ms"
printf 'one visit at rest, from its 302 to its row in %s: %d ms\n' "$database" "$lag_ms"
# wrk stops with up to one request in flight per connection: those are stored but never counted as answered.
in_flight=$((stored - answered))
if [ "$in_flight" -lt 0 ] || [ "$in_flight" -gt $((2 * CONNECTIONS)) ]; then
    echo "MISMATCH: $answered redirects answered but $stored visits stored" >&2
    exit 1
fi
echo "every answered redirect is a stored visit ($in_flight more were stored for requests in flight when wrk stopped)"
