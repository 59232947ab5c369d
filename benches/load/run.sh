#!/usr/bin/env bash
# Load benchmark of the couriers' mobile API against the release build, on SQLite and on
# PostgreSQL: a large day (200 couriers x 30 stops by default) is seeded, planned and
# published through the HTTP API, the couriers sign in, and wrk measures
#   - GET  /api/v1/me/route?date=   (gzip; once plain, once with If-None-Match -> 304)
#   - POST /api/v1/me/jobs/{id}/events (departed / arrived with fresh Idempotency-Keys)
# printing requests/s, p50/p99 latency, unexpected statuses and socket errors as a table
# (also written to target/load/results-<time>.md).
#
#   bash benches/load/run.sh                      # both backends, the README's figures
#   BACKENDS=sqlite DURATION=10s bash benches/load/run.sh
#
# Settings (environment): BACKENDS ("sqlite postgres"), COURIERS (200), STOPS (30),
# DATE (tomorrow, UTC), PLAN_MS (60000), DURATION (30s), WARMUP (5s), THREADS (1),
# CONNECTIONS (32), TIMEOUT (10s), PORT (18080), PG_URL (postgres://postgres@127.0.0.1:5432;
# a fresh database is created there and dropped afterwards), CLAIMROUTE_BIN (skip the build
# and use this binary), KEEP=1 (keep the data dir and the database for a look afterwards).
#
# Needs a Debian/Ubuntu box (wrk, curl, jq and psql are installed with apt-get when missing,
# as root or through sudo), Rust for the build, and for PostgreSQL a server at PG_URL.
# Every request goes to 127.0.0.1 only.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BACKENDS=${BACKENDS:-"sqlite postgres"}
COURIERS=${COURIERS:-200}
STOPS=${STOPS:-30}
DATE=${DATE:-$(date -u -d tomorrow +%F)}
PLAN_MS=${PLAN_MS:-60000}
DURATION=${DURATION:-30s}
WARMUP=${WARMUP:-5s}
THREADS=${THREADS:-1}
CONNECTIONS=${CONNECTIONS:-32}
# wrk's own 2 s would count a slow answer as a socket error; 10 s is the server's SQLite
# busy timeout, so an answer slower than that is a real failure.
TIMEOUT=${TIMEOUT:-10s}
PORT=${PORT:-18080}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
PASSWORD=${LOAD_PASSWORD:-load-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')}
BASE="http://127.0.0.1:$PORT"
API="$BASE/api/v1"
export LOAD_LUA_DIR="$HERE"

log() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# --- tools -----------------------------------------------------------------------------
install_missing() {
    local missing=() sudo=""
    command -v wrk >/dev/null || missing+=(wrk)
    command -v curl >/dev/null || missing+=(curl)
    command -v jq >/dev/null || missing+=(jq)
    if [[ " $BACKENDS " == *" postgres "* ]] && ! command -v psql >/dev/null; then
        missing+=(postgresql-client)
    fi
    ((${#missing[@]})) || return 0
    [[ $(id -u) -eq 0 ]] || sudo=sudo
    log "installing ${missing[*]}"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
}

install_missing
if [[ " $BACKENDS " == *" postgres "* ]]; then
    psql "$PG_URL/postgres" -qAtc 'SELECT 1' >/dev/null ||
        die "no PostgreSQL at $PG_URL (start one, set PG_URL, or run with BACKENDS=sqlite)"
fi
if [[ -n ${CLAIMROUTE_BIN:-} ]]; then
    BIN=$CLAIMROUTE_BIN
else
    log "building the release binary"
    (cd "$ROOT" && cargo build --release -p api)
    BIN="$ROOT/target/release/claimroute"
fi
[[ -x $BIN ]] || die "no binary at $BIN"

OUT="$ROOT/target/load"
mkdir -p "$OUT"
RESULTS="$OUT/results-$(date -u +%Y%m%dT%H%M%SZ).md"
{
    echo "| backend | endpoint | requests/s | p50 | p99 | errors | response |"
    echo "|---|---|---|---|---|---|---|"
} >"$RESULTS"

# --- one backend -----------------------------------------------------------------------
SERVER_PID=""
WORK=""
PG_DB=""
cleanup() {
    if [[ -n $SERVER_PID ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
    fi
    if [[ ${KEEP:-0} != 1 ]]; then
        [[ -n $PG_DB ]] && psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS \"$PG_DB\"" >/dev/null 2>&1 || true
        [[ -n $WORK ]] && rm -rf "$WORK"
    else
        [[ -n $WORK ]] && echo "kept $WORK${PG_DB:+ and database $PG_DB}" >&2
    fi
    PG_DB=""
    WORK=""
}
trap cleanup EXIT

login() { # email -> access token
    curl -sf -X POST "$API/auth/login" -H 'Content-Type: application/json' \
        -d "$(jq -nc --arg e "$1" --arg p "$PASSWORD" '{email: $e, password: $p}')" |
        jq -er .access_token
}

cpu_ticks() { # pid -> user+system clock ticks so far
    awk '{print $14 + $15}' "/proc/$1/stat"
}

# run_wrk BACKEND LABEL SCRIPT WARMUP ARGS... : one measured run, one row of the table.
run_wrk() {
    local backend=$1 label=$2 script=$3 warmup=$4 size=$5
    shift 5
    if [[ $warmup != 0 ]]; then
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"$warmup" --timeout "$TIMEOUT" -s "$HERE/$script" "$BASE" -- "$@" >/dev/null
    fi
    local before after report
    before=$(cpu_ticks "$SERVER_PID")
    report=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout "$TIMEOUT" --latency -s "$HERE/$script" "$BASE" -- "$@")
    after=$(cpu_ticks "$SERVER_PID")
    echo "$report" >"$WORK/wrk-$(tr -c 'a-zA-Z0-9\n' _ <<<"$label").txt"
    echo "$report" >&2
    local result
    result=$(grep '^RESULT ' <<<"$report") || die "wrk printed no RESULT line"
    field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$result"; }
    local seconds errors cpu
    seconds=$(field seconds)
    errors=$(($(field unexpected_status) + $(field socket_errors)))
    cpu=$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v s="$seconds" \
        'BEGIN {printf "%.0f", 100 * t / hz / s}')
    echo "server CPU: ${cpu}% of one core over the run" >&2
    printf '| %s | %s | %s | %s ms | %s ms | %s | %s |\n' "$backend" "$label" \
        "$(field rps)" "$(field p50_ms)" "$(field p99_ms)" "$errors" "$size" >>"$RESULTS"
}

bench_backend() {
    local backend=$1 url
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/claimroute-load.XXXXXX")
    case $backend in
        sqlite) url="sqlite://$WORK/claimroute.db" ;;
        postgres)
            PG_DB="claimroute_load_$(date -u +%Y%m%d%H%M%S)_$$"
            psql "$PG_URL/postgres" -qc "CREATE DATABASE \"$PG_DB\"" >/dev/null ||
                die "cannot create a database at $PG_URL (is PostgreSQL running?)"
            url="$PG_URL/$PG_DB"
            ;;
        *) die "unknown backend $backend" ;;
    esac
    export DATABASE_URL=$url DATA_DIR=$WORK
    echo "$PASSWORD" >"$WORK/password" # the load logins' password, for a look with KEEP=1

    log "$backend: seeding $COURIERS couriers x $STOPS stops on $DATE"
    LOAD_PASSWORD=$PASSWORD "$BIN" seed-load --couriers "$COURIERS" --stops "$STOPS" --date "$DATE"

    log "$backend: starting the server on $BASE"
    RUST_LOG=warn "$BIN" serve --bind "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 120); do
        curl -sf "$BASE/readyz" >/dev/null && break
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; die "the server stopped"; }
        sleep 0.5
    done
    curl -sf "$BASE/readyz" >/dev/null || die "the server did not get ready"

    log "$backend: planning the day (${PLAN_MS} ms) and publishing it"
    local dispatcher plan status
    dispatcher=$(login loaddispatcher@load.test)
    plan=$(curl -sf -X POST "$API/plans" -H "Authorization: Bearer $dispatcher" \
        -H 'Content-Type: application/json' \
        -d "{\"date\":\"$DATE\",\"time_limit_ms\":$PLAN_MS}" | jq -er .id)
    local deadline=$((SECONDS + PLAN_MS / 1000 + 300))
    while :; do
        status=$(curl -sf "$API/plans/$plan" -H "Authorization: Bearer $dispatcher" | jq -r .status)
        [[ $status == draft ]] && break
        [[ $status == failed ]] && die "the plan failed: $(curl -sf "$API/plans/$plan" -H "Authorization: Bearer $dispatcher" | jq -r .error)"
        ((SECONDS < deadline)) || die "the plan is still $status"
        sleep 2
    done
    curl -sf "$API/plans/$plan" -H "Authorization: Bearer $dispatcher" | jq -c .kpis >&2
    curl -sf -X POST "$API/plans/$plan/publish" -H "Authorization: Bearer $dispatcher" \
        -H 'Content-Type: application/json' -d '{}' | jq -c '{id, status}' >&2

    log "$backend: signing in $COURIERS couriers"
    local couriers="$WORK/couriers.tsv" n token headers etag jobs
    : >"$couriers"
    for n in $(seq 1 "$COURIERS"); do
        token=$(login "loadcourier$n@load.test")
        headers=$(curl -sf -D - -o "$WORK/route.json" "$API/me/route?date=$DATE" -H "Authorization: Bearer $token")
        etag=$(sed -n 's/^[Ee][Tt][Aa][Gg]: *\(.*[^[:space:]]\)[[:space:]]*$/\1/p' <<<"$headers")
        jobs=$(jq -r '[.stops[] | select(.job != null) | .job] | join(",")' "$WORK/route.json")
        printf '%s\t%s\t%s\n' "$token" "$etag" "$jobs" >>"$couriers"
    done
    local stops_total idle
    stops_total=$(awk -F'\t' '$3 != "" {n += split($3, a, ",")} END {print n + 0}' "$couriers")
    idle=$(awk -F'\t' '$3 == ""' "$couriers" | wc -l)
    echo "$stops_total stops on $COURIERS routes ($idle couriers without stops)" >&2

    # What a phone downloads: the route's body with and without gzip, over all couriers.
    local gz plain size
    read -r gz plain < <(
        while IFS=$'\t' read -r token _ _; do
            printf '%s ' "$(curl -s -o /dev/null -w '%{size_download}' -H 'Accept-Encoding: gzip' \
                -H "Authorization: Bearer $token" "$API/me/route?date=$DATE")"
            curl -s -o /dev/null -w '%{size_download}\n' -H "Authorization: Bearer $token" "$API/me/route?date=$DATE"
        done <"$couriers" | awk '{g += $1; p += $2} END {printf "%.0f %.0f\n", g / NR, p / NR}'
    )
    size="$(awk -v b="$gz" 'BEGIN {printf "%.1f", b / 1024}') KiB gzip ($(awk -v b="$plain" 'BEGIN {printf "%.1f", b / 1024}') KiB JSON)"
    echo "route body: $size" >&2

    log "$backend: GET /me/route (gzip) x $DURATION"
    run_wrk "$backend" "GET /me/route" route.lua "$WARMUP" "$size" "$couriers" "$DATE" plain
    log "$backend: GET /me/route with If-None-Match (304) x $DURATION"
    run_wrk "$backend" "GET /me/route, 304" route.lua "$WARMUP" "0 (304)" "$couriers" "$DATE" etag
    log "$backend: POST /me/jobs/{id}/events x $DURATION"
    # No warm-up: the first pass over the jobs is the one whose reports move them.
    run_wrk "$backend" "POST /me/jobs/{id}/events" events.lua 0 "~60 B JSON" \
        "$couriers" "$backend-$(date +%s)"

    if grep -qiE ' (error|panick)' "$WORK/server.log"; then
        echo "server log has errors:" >&2
        grep -iE ' (error|panick)' "$WORK/server.log" | head -20 >&2
    fi
    cleanup
}

echo "load benchmark: $(nproc) cores, wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $COURIERS couriers x $STOPS stops" >&2
for backend in $BACKENDS; do
    bench_backend "$backend"
done
log "results ($RESULTS)"
cat "$RESULTS"
