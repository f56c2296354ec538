#!/usr/bin/env bash
# Run deploy/caddy/Caddyfile with a real caddy on loopback in front of a tiny backend, and check what the
# public site answers: the webhooks reach the backend (Graph's validation echo comes back through it), a body
# over the limit gets 413, any other path or host 404, and the access log records the request without its
# query string or headers.
# The site runs as plain http on a free port (no certificate); everything else is the file as installed.
#   tests/deploy/caddy_live.sh [CADDYFILE]     (needs caddy, curl and python3)
set -euo pipefail
cd "$(dirname "$0")/../.."
CADDYFILE=${1:-deploy/caddy/Caddyfile}
WORK=$(mktemp -d /tmp/calmirror-caddy.XXXXXX)
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    [ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
    echo "caddy_live: $*"
    for log in caddy.log backend.log access.log; do
        [ -f "$WORK/$log" ] && { echo "--- $log"; tail -n 20 "$WORK/$log"; }
    done
    exit 1
}

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
SITE_PORT=$(free_port)
BACKEND_PORT=$(free_port)
WEBHOOK=/api/v1/webhooks/google-calendar
GRAPH_WEBHOOK=/api/v1/webhooks/microsoft-graph
HOST=localhost:$SITE_PORT  # what the site's name becomes in the variant, as a browser would send it

# The test variant: http on SITE_PORT instead of https on 443 (no tls block), the backend's port, the
# access log in WORK, and no admin endpoint. Each substitution must apply, or the test proves nothing.
variant() {
    sed -e "s|^{\$CALMIRROR_DOMAIN}:443 {|http://{\$CALMIRROR_DOMAIN}:$SITE_PORT {|" \
        -e "s|^:443 {|http://:$SITE_PORT {|" \
        -e '/^\ttls {/,/^\t}/d' \
        -e "s|reverse_proxy 127.0.0.1:8000|reverse_proxy 127.0.0.1:$BACKEND_PORT|" \
        -e "s|output file /var/log/caddy/calmirror-access.log|output file $WORK/access.log|" \
        -e '0,/^{$/ s/^{$/{\n\tadmin off/' \
        "$CADDYFILE" >"$WORK/Caddyfile"
    local want
    for want in "http://{\$CALMIRROR_DOMAIN}:$SITE_PORT {" "http://:$SITE_PORT {" "127.0.0.1:$BACKEND_PORT" \
        "$WORK/access.log" "admin off"; do
        grep -qF "$want" "$WORK/Caddyfile" || fail "the test variant lacks '$want': did $CADDYFILE change shape?"
    done
    ! grep -q 'tls {' "$WORK/Caddyfile" || fail "the test variant still has a tls block"
}

# Answers 200 to anything (echoing a Graph validationToken as text/plain, as the daemon does) and records
# "METHOD PATH BODY-LENGTH" per request whose body arrived whole.
backend() {
    python3 - "$BACKEND_PORT" "$WORK/backend.log" <<'PY' &
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

port, log = int(sys.argv[1]), sys.argv[2]

class Handler(BaseHTTPRequestHandler):
    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))
        data = b""
        while size := int(self.rfile.readline().split(b";")[0], 16):  # a cut stream raises here
            data += self.rfile.read(size)
            self.rfile.readline()
        return data

    def answer(self):
        body = self.body()
        with open(log, "a") as file:
            file.write(f"{self.command} {self.path.split('?')[0]} {len(body)}\n")
        echo = parse_qs(urlsplit(self.path).query).get("validationToken", ["ok"])[0].encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(echo)))
        self.end_headers()
        self.wfile.write(echo)

    do_GET = do_POST = answer

    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
server.handle_error = lambda request, address: None  # a body cut by caddy is expected, not news
server.serve_forever()
PY
    PIDS+=($!)
}

# Prints the status code of one request to the site: curl_status HOST [curl options...]
curl_status() {
    local host=$1
    shift
    curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "Host: $host" "$@" || true
}

# Waits until something listens on the port: wait_listening PORT
wait_listening() {
    local deadline=$((SECONDS + 30))
    until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
        [ "$SECONDS" -lt "$deadline" ] || fail "nothing listens on port $1 after 30 s"
        sleep 0.2
    done
}

wait_until_up() {
    local deadline=$((SECONDS + 30))
    until [ "$(curl_status "$HOST" "http://127.0.0.1:$SITE_PORT/")" = 404 ]; do
        [ "$SECONDS" -lt "$deadline" ] || fail "caddy did not answer within 30 s"
        kill -0 "${PIDS[-1]}" 2>/dev/null || fail "caddy exited"
        sleep 0.2
    done
}

variant
: >"$WORK/backend.log"
backend
wait_listening "$BACKEND_PORT"
HOME=$WORK XDG_DATA_HOME=$WORK/data XDG_CONFIG_HOME=$WORK/config CALMIRROR_DOMAIN=localhost \
    caddy run --adapter caddyfile --config "$WORK/Caddyfile" >"$WORK/caddy.log" 2>&1 &
PIDS+=($!)
wait_until_up

site=http://127.0.0.1:$SITE_PORT
status=$(curl_status "$HOST" -X POST -H 'X-Goog-Channel-Token: header-secret-4f1d' --data-binary '' \
    "$site$WEBHOOK?query-secret-9c2e=1")
[ "$status" = 200 ] || fail "POST $WEBHOOK answered $status, not the backend's 200"
grep -qx "POST $WEBHOOK 0" "$WORK/backend.log" || fail "the webhook did not reach the backend"

# Graph's validation: POST with the token in the query and a text body; the echo must come back unchanged.
token='Validation: Testing client application reachability for subscription Request-Id: 5e1c-query-secret'
echo=$(curl -s --max-time 10 -H "Host: $HOST" -H 'Content-Type: text/plain; charset=utf-8' -X POST \
    --data-binary '' --get --data-urlencode "validationToken=$token" -o - "$site$GRAPH_WEBHOOK" || true)
# --get puts the token in the query; -X POST keeps the method Graph uses.
[ "$echo" = "$token" ] || fail "Graph's validation through caddy echoed '$echo', not the token"
grep -qx "POST $GRAPH_WEBHOOK 0" "$WORK/backend.log" || fail "the Graph validation did not reach the backend"

head -c 100000 /dev/zero >"$WORK/big"
status=$(curl_status "$HOST" -X POST --data-binary "@$WORK/big" "$site$WEBHOOK")
[ "$status" = 413 ] || fail "a 100 kB body answered $status, not 413"
# Without a declared length caddy cuts the body at the limit: 413 from Caddy 2.7 on, 502 from 2.6.
status=$(curl_status "$HOST" -X POST -H 'Transfer-Encoding: chunked' --data-binary "@$WORK/big" "$site$WEBHOOK")
[ "$status" = 413 ] || [ "$status" = 502 ] || fail "a chunked 100 kB body answered $status, not 413 or 502"

for path in /health /metrics /api/v1/calendar/stats; do
    status=$(curl_status "$HOST" "$site$path")
    [ "$status" = 404 ] || fail "GET $path answered $status on the public site, not 404"
done
status=$(curl_status "$HOST" "$site$WEBHOOK")
[ "$status" = 404 ] || fail "GET $WEBHOOK answered $status, not 404"
status=$(curl_status "other.example.com:$SITE_PORT" -X POST --data-binary '' "$site$WEBHOOK")
[ "$status" = 404 ] || fail "POST $WEBHOOK for another host answered $status, not 404"

[ "$(wc -l <"$WORK/backend.log")" -eq 2 ] || fail "requests other than the two webhooks reached the backend"

deadline=$((SECONDS + 10))
until grep -q "\"uri\":\"$WEBHOOK\"" "$WORK/access.log" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || fail "the access log has no line for the webhook"
    sleep 0.2
done
! grep -q 'secret' "$WORK/access.log" || fail "the access log holds a header or query string"
echo "caddy_live: webhooks proxied, Graph validation echoed, 413 over the limit, 404 elsewhere, access log without secrets"
