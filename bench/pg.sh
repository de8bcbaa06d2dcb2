# Sourced by the bench scripts: a throwaway PostgreSQL 15 cluster in a folder, on a private port, run as the
# postgres user when the script runs as root. start_pg FOLDER PORT; stop_pg FOLDER; the URL is pg_url PORT DB.
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

pg_as() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

start_pg() { # folder port
    mkdir -p "$1"
    if [ "$(id -u)" = 0 ]; then chown postgres "$1"; chmod o+x "$(dirname "$1")"; fi
    (cd /tmp && pg_as "$PG_BIN/initdb" -D "$1/data" -U clickattr --auth=trust -E UTF8 --locale=C >/dev/null)
    # Durable as in production (fsync on): the numbers are about a real database on the same two cores.
    (cd /tmp && pg_as "$PG_BIN/pg_ctl" -D "$1/data" -l "$1/server.log" -w \
        -o "-p $2 -k $1 -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=256MB" start >/dev/null)
    "$PG_BIN/createdb" -h 127.0.0.1 -p "$2" -U clickattr bench
}

stop_pg() { # folder
    (cd /tmp && pg_as "$PG_BIN/pg_ctl" -D "$1/data" -m fast -w stop >/dev/null 2>&1) || true
}

pg_url() { echo "postgres://clickattr@127.0.0.1:$1/${2:-bench}?sslmode=disable"; }

pg_query() { # port sql
    psql -h 127.0.0.1 -p "$1" -U clickattr -d bench -Atc "$2"
}

storage_block() { # sqlite|postgres work-folder pg-port -> the config's storage: block (starting PostgreSQL)
    if [ "$1" = postgres ]; then
        start_pg "$2/pg" "$3" >&2
        printf '  driver: postgres\n  postgres:\n    url: %s\n  spool:\n    path: %s/spool.sqlite\n' "$(pg_url "$3")" "$2"
    else
        printf '  sqlite:\n    path: %s/clickattr.sqlite\n  spool:\n    path: %s/spool.sqlite\n' "$2" "$2"
    fi
}
