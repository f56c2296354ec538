#!/usr/bin/env bash
# Scrape /metrics of a real `calmirror run` talking to `calmirror emulator`, both on loopback, after
# the events that create every labelled series: a startup reconcile, a watch channel (webhooks on,
# http allowed by the emulator), forged notifications the daemon rejects, and a webhook-driven
# reconcile. Then stop both; the daemon must exit 0 on SIGTERM.
#   tests/deploy/scrape_daemon.sh CALMIRROR_BIN OUT_FILE
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CALMIRROR=${1:?usage: scrape_daemon.sh CALMIRROR_BIN OUT_FILE}
OUT=${2:?usage: scrape_daemon.sh CALMIRROR_BIN OUT_FILE}
PY=$(dirname "$CALMIRROR")/python
CLIENT="$HERE/emulator_client.py"
DIR=$(mktemp -d /tmp/calmirror-scrape.XXXXXX)
EMULATOR_PID=""
DAEMON_PID=""
cleanup() {
    [ -z "$DAEMON_PID" ] || kill "$DAEMON_PID" 2>/dev/null || true
    [ -z "$EMULATOR_PID" ] || kill "$EMULATOR_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$DIR"
}
trap cleanup EXIT
fail() {
    echo "scrape: $*"
    for log in emulator.err daemon.log; do [ -f "$DIR/$log" ] && sed "s/^/  $log: /" "$DIR/$log" | tail -20; done
    exit 1
}
# wait_for SECONDS COMMAND-STRING: the string is evaluated afresh every 0.2 s.
wait_for() {
    for _ in $(seq "$(($1 * 5))"); do
        eval "$2" && return 0
        sleep 0.2
    done
    return 1
}
port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

"$CALMIRROR" emulator --host 127.0.0.1 --port 0 --allow-http-webhooks \
    --account alice@example.com --account bob@example.com --print-env >"$DIR/emulator.env" 2>"$DIR/emulator.err" &
EMULATOR_PID=$!
wait_for 30 "grep -q REFRESH_TOKEN '$DIR/emulator.env' 2>/dev/null && [ \$(wc -l <'$DIR/emulator.env') -ge 10 ]" ||
    fail "the emulator printed no .env lines"
{
    cat "$DIR/emulator.env"
    echo
    echo "SYNC_FLOW_1_NAME=alice to bob"
    echo "SYNC_FLOW_1_SOURCE_ACCOUNT_ID=1"
    echo "SYNC_FLOW_1_SOURCE_CALENDAR_ID=primary"
    echo "SYNC_FLOW_1_TARGET_ACCOUNT_ID=2"
    echo "SYNC_FLOW_1_TARGET_CALENDAR_ID=primary"
    echo "LISTEN_HOST=127.0.0.1"
    echo "LISTEN_PORT=$port"
    echo "WEBHOOK_BASE_URL=http://127.0.0.1:$port"
    echo "WEBHOOK_API_KEY=deploy-checks-webhook-key-0123456789"
} >"$DIR/.env"
start=$("$PY" "$CLIENT" seed-meeting "$DIR/.env" 1) || fail "could not seed a meeting"

(cd "$DIR" && exec "$CALMIRROR" run --env-file "$DIR/.env" >"$DIR/daemon.log" 2>&1) &
DAEMON_PID=$!
url=http://127.0.0.1:$port
wait_for 60 "curl -sf -o /dev/null $url/health" || fail "/health did not answer 200 within 60 s"
[ "$("$PY" "$CLIENT" blocks "$DIR/.env" bob@example.com "$start")" = 1 ] || fail "no block in bob's calendar"
"$PY" "$CLIENT" forge-notifications "$url" >/dev/null || fail "a forged notification was accepted"
# A second meeting: the emulator notifies the daemon's channel, whose reconcile writes its block.
"$PY" "$CLIENT" seed-meeting "$DIR/.env" 1 14 >/dev/null
wait_for 30 "curl -s $url/metrics | grep -q '^calmirror_webhook_to_block_seconds_count [1-9]'" ||
    fail "no block written by a webhook-driven reconcile within 30 s"
curl -sf "$url/metrics" >"$OUT" || fail "GET /metrics failed"

kill -TERM "$DAEMON_PID"
status=0
wait "$DAEMON_PID" || status=$?
DAEMON_PID=""
[ "$status" -eq 0 ] || fail "calmirror run exited $status on SIGTERM"
[ -z "$("$PY" "$CLIENT" channels "$DIR/.env")" ] || fail "a watch channel was left open after the stop"
echo "scrape: $(grep -vc '^#' "$OUT") samples from calmirror run on $url; it stopped with 0 and closed its channel"
