#!/usr/bin/env bash
# The landing hot path, side by side on 127.0.0.1 with wrk:
#   (a) clickattr, release build, recording every visit (durable spool, then SQLite or PostgreSQL);
#   (b) nginx `return 302` with an access_log that records the click id (the do-it-yourself alternative);
#   (c) clickattr's /healthz, which parses and stores nothing: the framework's ceiling on this machine.
# Runs ROUNDS rounds (3 by default) of (b) then (a), both servers started once, clickattr's spool drained into
# its database after each of its runs; prints each round's requests/s and p50/p99 latency of both, their ratio a/b,
# the share of the cores that the host took (steal) during each (on a shared VM that share moves within minutes, and
# a ratio is only fair when both runs had the same), the spool depth when the load stopped and its drain time, and
# then the median ratio, clickattr's peak resident memory, and checks that the visits stored equal the 302 answers
# wrk counted.
# Usage: bench/landing.sh            (CONNECTIONS=64 DURATION=10s THREADS=2 ROUNDS=3 by default)
#        PERF=1 bench/landing.sh     also records the server with perf during the first (a) and prints its CPU
#        microseconds per request by component (bench/perf-split.py); perf's sampling costs the server a
#        little throughput.
#        STORAGE=postgres bench/landing.sh   (a) on a throwaway PostgreSQL on the same cores, visits through the
#        instance's spool. Both storages print the lag of one visit at rest from its 302 to the database.
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
# wrk's own count of connect, read, write and timeout errors, and of answers other than 2xx/3xx.
wrk_errors() { grep -E "Socket errors|Non-2xx" <<<"$1" | sed 's/^ *//' | paste -sd ';' || true; }
rps() { awk '/^Requests\/sec:/ { print $2 }' <<<"$1"; }

# (b) nginx, started once and idle while clickattr runs.
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

# (a) clickattr, started once: its database and spool carry over from round to round.
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
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$server_pid/stat"; }
# Visits are on disk in the spool before their 302; the database gets them in batches.
spooled() { curl -s "http://127.0.0.1:$CLICKATTR_PORT/readyz" | sed -E 's/.*"spooled_visits":([0-9]+).*/\1/'; }
run_wrk "http://127.0.0.1:$NGINX_PORT/bench" 2s >/dev/null
warm=$(run_wrk "http://127.0.0.1:$CLICKATTR_PORT/bench" 2s)
answered=$(field REDIRECTS "$warm")
while [ "$(spooled)" != 0 ]; do sleep 0.05; done

# Rounds: nginx, then clickattr, then clickattr's spool drained into the database before the next round (so the
# indexing behind the spool is never done while nginx runs). The host's share of the cores drifts within
# minutes; the median of the rounds' ratios is the result, not whichever minute was quiet.
ROUNDS=${ROUNDS:-3}
ratios=()
rows=()
worst_p99=0
run_requests=0
cpu_seconds=0
for round in $(seq "$ROUNDS"); do
    # The access log of nginx's last run is still being written back: flush it, so that its writeback is charged
    # to neither side.
    sync
    stat_before=$(cpu_stat)
    nginx_out=$(run_wrk "http://127.0.0.1:$NGINX_PORT/bench" "$DURATION")
    nginx_stolen=$(stolen "$stat_before" "$(cpu_stat)")
    sync
    if [ "${PERF:-0}" = 1 ] && [ "$round" = 1 ]; then
        perf record -F 999 -g -p "$server_pid" -o "$work/perf.data" >/dev/null 2>&1 &
        perf_pid=$!
        sleep 0.5
    fi
    ticks_before=$(cpu_ticks)
    stat_before=$(cpu_stat)
    clickattr_out=$(run_wrk "http://127.0.0.1:$CLICKATTR_PORT/bench" "$DURATION")
    clickattr_stolen=$(stolen "$stat_before" "$(cpu_stat)")
    ticks_after=$(cpu_ticks)
    if [ "${PERF:-0}" = 1 ] && [ "$round" = 1 ]; then
        kill -INT "$perf_pid"; wait "$perf_pid" 2>/dev/null || true
        perf_requests=$(awk '/requests in/ { print $1 }' <<<"$clickattr_out")
        perf_seconds=$(echo "($ticks_after - $ticks_before) / $(getconf CLK_TCK)" | bc -l)
    fi
    # How many visits wait for the database when the load stops, and how long they take to reach it.
    depth_at_end=$(spooled)
    drain_start=$(date +%s%N)
    while [ "$(spooled)" != 0 ]; do sleep 0.05; done
    drain_ms=$(( ($(date +%s%N) - drain_start) / 1000000 ))

    answered=$((answered + $(field REDIRECTS "$clickattr_out")))
    requests=$(awk '/requests in/ { print $1 }' <<<"$clickattr_out")
    seconds=$(echo "($ticks_after - $ticks_before) / $(getconf CLK_TCK)" | bc -l)
    run_requests=$((run_requests + requests))
    cpu_seconds=$(echo "$cpu_seconds + $seconds" | bc -l)
    a_rps=$(rps "$clickattr_out"); b_rps=$(rps "$nginx_out")
    ratio=$(printf '%.2f' "$(echo "$a_rps / $b_rps" | bc -l)")
    ratios+=("$ratio")
    a_p99=$(field P99_US "$clickattr_out")
    [ "$a_p99" -gt "$worst_p99" ] && worst_p99=$a_p99
    errors_seen=$(wrk_errors "$clickattr_out")
    rows+=("$(printf '%5d %9.0f %6.2f %7.2f %9.0f %6.2f %7.2f %6s %4d/%-4d %7.1f %9d %8d  %s' "$round" \
        "$a_rps" "$(echo "$(field P50_US "$clickattr_out") / 1000" | bc -l)" "$(echo "$a_p99 / 1000" | bc -l)" \
        "$b_rps" "$(echo "$(field P50_US "$nginx_out") / 1000" | bc -l)" \
        "$(echo "$(field P99_US "$nginx_out") / 1000" | bc -l)" "$ratio" "$clickattr_stolen" "$nginx_stolen" \
        "$(echo "$seconds * 1000000 / $requests" | bc -l)" "$depth_at_end" "$drain_ms" "${errors_seen:-}")")
done
kill "$nginx_pid"; wait "$nginx_pid" 2>/dev/null || true; nginx_pid=""
nginx_logged=$(wc -l < "$work/nginx/logs/access.log")

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

# The lag probe is one more visit, answered outside wrk.
answered=$((answered + 1))
if [ "$STORAGE" = postgres ]; then
    stored=$(pg_query "$PG_PORT" "SELECT count(*) FROM visits")
    distinct=$(pg_query "$PG_PORT" "SELECT count(DISTINCT visit_key) FROM visits")
    [ "$distinct" = "$stored" ] || { echo "DOUBLED: $stored visits but $distinct keys" >&2; exit 1; }
else
    stored=$(sqlite3 "$work/clickattr.sqlite" "SELECT count(*) FROM visits")
fi

percentile_ms() { # 50%|99%, wrk output with --latency -> milliseconds
    awk -v p="$1" '$1 == p { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
        print (u == "us" ? v / 1000 : (u == "s" ? v * 1000 : v)) }' <<<"$2"
}
median() {
    printf '%s\n' "$@" | sort -n |
        awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

printf '\n%d connections, %s a run, %d wrk threads, storage %s\n' "$CONNECTIONS" "$DURATION" "$THREADS" "$STORAGE"
printf '(a) clickattr storing every visit, (b) nginx return 302 + access_log\n'
printf '%5s %9s %6s %7s %9s %6s %7s %6s %9s %7s %9s %8s  %s\n' round "(a) req/s" p50 p99 "(b) req/s" p50 p99 "a/b" \
    "steal a/b" "us/req" "spooled" "drain ms" "wrk errors (a)"
printf '%s\n' "${rows[@]}"
c_rps=$(rps "$health_out")
printf 'median ratio a/b over %d rounds: %.2f   worst clickattr p99: %.2f ms\n' "$ROUNDS" "$(median "${ratios[@]}")" \
    "$(echo "$worst_p99 / 1000" | bc -l)"
printf '(c) clickattr GET /healthz: %.0f requests/s, p50 %.2f ms, p99 %.2f ms (framework ceiling c/b: %.2f)\n' \
    "$c_rps" "$(percentile_ms 50% "$health_out")" "$(percentile_ms 99% "$health_out")" "$(echo "$c_rps / $b_rps" | bc -l)"
printf 'clickattr peak resident memory: %.1f MB\n' "$(echo "$peak_kb / 1024" | bc -l)"
printf 'nginx access log lines: %d\n' "$nginx_logged"
printf 'clickattr 302 answers (warm-up + rounds + lag probe): %d, visits stored: %d\n' "$answered" "$stored"
errors=$(grep -c "visit not stored" "$work/clickattr.log" || true)
printf 'visits logged as not stored: %d\n' "$errors"
printf 'clickattr CPU during the rounds: %.1f us per request (%d requests)\n' \
    "$(echo "$cpu_seconds * 1000000 / $run_requests" | bc -l)" "$run_requests"
if [ "${PERF:-0}" = 1 ]; then python3 bench/perf-split.py "$work/perf.data" "$perf_requests" "$perf_seconds"; fi
database=$([ "$STORAGE" = postgres ] && echo PostgreSQL || echo "the SQLite database")
printf 'spool depth when each round stopped and its drain into %s: the spooled and drain ms columns\n' "$database"
printf 'one visit at rest, from its 302 to its row in %s: %d ms\n' "$database" "$lag_ms"
# wrk stops with up to one request in flight per connection: those are stored but never counted as answered.
in_flight=$((stored - answered))
if [ "$in_flight" -lt 0 ] || [ "$in_flight" -gt $((2 * CONNECTIONS * (ROUNDS + 1))) ]; then
    echo "MISMATCH: $answered redirects answered but $stored visits stored" >&2
    exit 1
fi
echo "every answered redirect is a stored visit ($in_flight more were stored for requests in flight when wrk stopped)"
