#!/usr/bin/env bash
# Runs inside the throwaway container (as boot-test.service, after boot): install.sh twice, then the
# real `calmirror run` in the unit under a real systemd, talking to `calmirror emulator` on loopback.
# Writes its results to /out/report.txt and powers the container off.
set -uo pipefail
exec >>/out/report.txt 2>&1
PASSED=0
FAILED=0
ENV_FILE=/etc/calmirror/calmirror.env
CRED_DIR=/run/credentials/calmirror.service
EMULATOR_ENV=/run/emulator.env
CLIENT="/usr/bin/python3 /src/tests/deploy/emulator_client.py"
SECRETS=(GOOGLE_ACCOUNT_1_CLIENT_SECRET GOOGLE_ACCOUNT_1_REFRESH_TOKEN GOOGLE_ACCOUNT_2_CLIENT_SECRET
    GOOGLE_ACCOUNT_2_REFRESH_TOKEN WEBHOOK_API_KEY)
# No network in here: pip (in install.sh) takes everything from the wheelhouse boot-test.sh built.
export PIP_NO_INDEX=1 PIP_FIND_LINKS=/wheels

ok() { PASSED=$((PASSED + 1)); echo "PASS  $1"; }
bad() { FAILED=$((FAILED + 1)); echo "FAIL  $1"; }
expect() {
    local name=$1
    shift
    if "$@"; then ok "$name"; else bad "$name"; fi
}
show() { systemctl show calmirror.service -p "$1" --value; }
# wait_for SECONDS COMMAND-STRING: the string is evaluated afresh every half second.
wait_for() {
    for _ in $(seq "$(($1 * 2))"); do
        eval "$2" && return 0
        sleep 0.5
    done
    return 1
}

echo "== install.sh, first run"
expect "install.sh exits 0" /src/deploy/install.sh --source /src --no-start
expect "user calmirror exists" id calmirror
expect "env file is root 0600" test "$(stat -c '%U %a' "$ENV_FILE")" = "root 600"
expect "env file has no active secret line" bash -c "test -f $ENV_FILE && ! grep -Eq '^(GOOGLE_CLIENT_SECRET|GOOGLE_ACCOUNT_[0-9]+_(REFRESH_TOKEN|CLIENT_SECRET)|WEBHOOK_API_KEY)=' $ENV_FILE"
expect "credentials dir is root 0700" test "$(stat -c '%U %a' /etc/calmirror/credentials)" = "root 700"
expect "unit is enabled" test "$(systemctl is-enabled calmirror.service)" = enabled
expect "venv runs calmirror" /opt/calmirror/venv/bin/calmirror --help

echo "== install.sh, second run (an edited env file must survive; a new credential file is picked up)"
echo "BOOT_TEST_MARKER=kept" >>"$ENV_FILE"
before=$(sha256sum "$ENV_FILE")
printf '%s' "boot-test-webhook-key-0123456789" >/etc/calmirror/credentials/WEBHOOK_API_KEY
chmod 0600 /etc/calmirror/credentials/WEBHOOK_API_KEY
expect "install.sh exits 0 again" /src/deploy/install.sh --source /src --no-start
expect "credentials drop-in names the file" \
    grep -qx 'LoadCredential=WEBHOOK_API_KEY:/etc/calmirror/credentials/WEBHOOK_API_KEY' \
    /etc/systemd/system/calmirror.service.d/credentials.conf
expect "edited env file untouched" bash -c "grep -q '^BOOT_TEST_MARKER=kept$' $ENV_FILE && test \"\$(sha256sum $ENV_FILE)\" = '$before'"
expect "unit still enabled" test "$(systemctl is-enabled calmirror.service)" = enabled

echo "== configuration: the emulator's accounts, settings in the env file, secrets as credential files"
/opt/calmirror/venv/bin/calmirror emulator --host 127.0.0.1 --port 8085 --allow-http-webhooks \
    --account alice@example.com --account bob@example.com --print-env >"$EMULATOR_ENV" 2>/run/emulator.err &
expect "emulator prints its .env lines" wait_for 30 "grep -q '^GOOGLE_ACCOUNT_2_REFRESH_TOKEN=' $EMULATOR_ENV"
{
    grep -E '^(GOOGLE_API_ROOT_URL|GOOGLE_TOKEN_URI|GOOGLE_ACCOUNT_[0-9]+_(EMAIL|CLIENT_ID))=' "$EMULATOR_ENV"
    printf '%s\n' "SYNC_FLOW_1_NAME=alice to bob" SYNC_FLOW_1_SOURCE_ACCOUNT_ID=1 SYNC_FLOW_1_SOURCE_CALENDAR_ID=primary \
        SYNC_FLOW_1_TARGET_ACCOUNT_ID=2 SYNC_FLOW_1_TARGET_CALENDAR_ID=primary \
        WEBHOOK_BASE_URL=http://127.0.0.1:8000 LISTEN_HOST=127.0.0.1 LISTEN_PORT=8000
} >"$ENV_FILE"
for name in "${SECRETS[@]:0:4}"; do
    sed -n "s/^$name=//p" "$EMULATOR_ENV" >"/etc/calmirror/credentials/$name"
done
expect "install.sh exits 0 a third time" /src/deploy/install.sh --source /src --no-start
expect "credentials drop-in names all five secrets" \
    test "$(grep -c '^LoadCredential=' /etc/systemd/system/calmirror.service.d/credentials.conf)" = 5
expect "env file holds no secret, root 0600" bash -c "! grep -Eq '(SECRET|TOKEN|KEY)=' $ENV_FILE && test \"\$(stat -c '%U %a' $ENV_FILE)\" = 'root 600'"
expect "check-config accepts it" env CREDENTIALS_DIRECTORY=/etc/calmirror/credentials \
    /opt/calmirror/venv/bin/calmirror check-config --env-file "$ENV_FILE"
meeting=$($CLIENT seed-meeting "$EMULATOR_ENV" 1)
expect "a meeting in alice's calendar, no block in bob's yet" test "$($CLIENT blocks "$EMULATOR_ENV" bob@example.com "$meeting")" = 0

echo "== readiness: active only after READY=1, which follows the first reconcile, even past TimeoutStartSec"
mkdir -p /etc/systemd/system/calmirror.service.d
# A short watchdog and restart delay so the wedge test takes seconds. A SIGSTOPped process keeps
# the watchdog's SIGABRT pending, so systemd's SIGKILL comes after TimeoutAbortSec: keep it short.
# A 5 s start timeout, which the slow first reconcile below outlasts: only EXTEND_TIMEOUT_USEC saves it.
printf '[Service]\nWatchdogSec=6s\nRestartSec=1s\nTimeoutAbortSec=2s\nTimeoutStartSec=5s\n' \
    >/etc/systemd/system/calmirror.service.d/boot-test.conf
systemctl daemon-reload
# Every request of the startup (the watch, both listings, the block's batch) takes 6 s: the first
# reconcile lasts about 20 s, past the start timeout and past the daemon's first 15 s extension.
slow='{"kind": "latency", "seconds": 6, "methods": ["calendar.events.watch", "calendar.events.list", "batch"]}'
curl -s -o /dev/null -X POST -H 'Content-Type: application/json' http://127.0.0.1:8085/_emulator/faults \
    -d "{\"rules\": [$slow]}"
systemctl start --no-block calmirror.service
seen=""
statuses=""
for _ in $(seq 360); do
    state=$(show ActiveState)
    if [ "$state" = activating ]; then
        seen="$seen $(curl -s -o /dev/null -w '%{http_code}' --max-time 1 http://127.0.0.1:8000/health)"
        statuses="$statuses$(show StatusText)"$'\n'
    fi
    [ "$state" = active ] && break
    sleep 0.25
done
curl -s -o /dev/null -X DELETE http://127.0.0.1:8085/_emulator/faults
blocks_at_ready=$($CLIENT blocks "$EMULATOR_ENV" bob@example.com "$meeting")
echo "   /health while activating (count x status):$(tr ' ' '\n' <<<"${seen# }" | sort | uniq -c | sed 's/^ *\([0-9]*\) \(.*\)/ \1 x \2/' | tr -d '\n')"
progress=$(grep '^first reconcile: ' <<<"$statuses" | uniq)
sed 's/^/   status while activating: /' <<<"$progress"
start_us=$(($(show ActiveEnterTimestampMonotonic) - $(show ExecMainStartTimestampMonotonic)))
echo "   from exec to READY=1: $((start_us / 1000)) ms (TimeoutStartSec=$(show TimeoutStartUSec))"
expect "active (running) within 90 s" test "$(show ActiveState)/$(show SubState)" = active/running
expect "never killed nor restarted on the way" test "$(show NRestarts)" = 0
expect "READY=1 came after the 5 s start timeout would have expired" test "$start_us" -gt 5000000
expect "STATUS counted the first reconcile's progress (two different lines)" test "$(grep -c . <<<"$progress")" -ge 2
expect "while activating, /health answered 503 (starting)" grep -q 503 <<<"$seen"
expect "when active, the meeting's block is in bob's calendar" test "$blocks_at_ready" = 1
echo "   status: $(show StatusText); user: $(show User); watchdog: $(show WatchdogUSec)"
expect "status says one flow, one calendar watched" test "$(show StatusText)" = "serving 1 flow(s), 1 calendar(s) watched"
journalctl -u calmirror.service --no-pager -o cat | grep -E 'reconcile trigger=startup|ready:' | sed 's/^/   /'
expect "/health 200" test "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:8000/health)" = 200

echo "== hardening and credentials"
pid=$(show MainPID)
expect "runs as calmirror" test "$(stat -c %U "/proc/$pid")" = calmirror
expect "no capabilities" grep -q '^CapEff:[[:space:]]*0000000000000000$' "/proc/$pid/status"
expect "no_new_privs and seccomp" bash -c "grep -q '^NoNewPrivs:[[:space:]]*1' /proc/$pid/status && grep -q '^Seccomp:[[:space:]]*2' /proc/$pid/status"
# The running daemon has already used AF_INET (Google, HTTP) and AF_UNIX (sd_notify) under these.
expect "MemoryDenyWriteExecute and RestrictAddressFamilies are in force" \
    test "$(show MemoryDenyWriteExecute) $(show RestrictAddressFamilies)" = "yes AF_INET AF_INET6 AF_UNIX"
ls -l "$CRED_DIR" | sed 's/^/   /'
for name in "${SECRETS[@]}"; do
    expect "credential $name: calmirror 0400" test "$(stat -c '%U %a' "$CRED_DIR/$name" 2>&1)" = "calmirror 400"
done
expect "another user cannot read a credential" \
    bash -c "test -s $CRED_DIR/WEBHOOK_API_KEY && ! setpriv --reuid=65534 --regid=65534 --clear-groups cat $CRED_DIR/WEBHOOK_API_KEY >/dev/null 2>&1"
metrics=$(curl -s --max-time 5 http://127.0.0.1:8000/metrics)
expect "/metrics carries process_* metrics" test "$(grep -c '^process_' <<<"$metrics")" -ge 4
expect "/metrics says ready" grep -q '^calmirror_ready 1' <<<"$metrics"
expect "one watch channel is live" test "$($CLIENT channels "$EMULATOR_ENV" | wc -l)" = 1

echo "== watchdog: a wedged daemon (SIGSTOP) is killed and restarted"
restarts=$(show NRestarts)
kill -STOP "$pid"
expect "watchdog kills and restarts it" wait_for 30 '[ "$(show NRestarts)" -gt "$restarts" ]'
journalctl -u calmirror.service --no-pager -o cat | grep -m1 'Watchdog timeout' | sed 's/^/   /'
expect "active again after the restart, with a new process" wait_for 60 '[ "$(show ActiveState)" = active ] && [ "$(show MainPID)" != "$pid" ]'
expect "/health 200 after the restart" test "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:8000/health)" = 200
expect "still exactly one block" test "$($CLIENT blocks "$EMULATOR_ENV" bob@example.com "$meeting")" = 1

echo "== clean stop"
# The SIGKILLed process could not stop its channel (it expires, or is stopped on its first
# notification); the running one must stop its own.
channel=$(journalctl -u calmirror.service --no-pager -o cat | sed -n 's/.* through channel \([^ ]*\) until .*/\1/p' | tail -1)
expect "the running daemon's channel $channel is live" grep -qx "$channel" <<<"$($CLIENT channels "$EMULATOR_ENV")"
stop_started=$(date +%s%N)
expect "systemctl stop" timeout 60 systemctl stop calmirror.service
stop_ms=$((($(date +%s%N) - stop_started) / 1000000))
echo "   stop took ${stop_ms} ms (TimeoutStopSec=$(show TimeoutStopUSec))"
expect "stopped within 10 s" test "$stop_ms" -lt 10000
expect "stopped with status 0, result success" \
    test "$(show LoadState)/$(show ActiveState)/$(show ExecMainStatus)/$(show Result)" = loaded/inactive/0/success
expect "its channel is stopped at Google (not live in the emulator)" bash -c "! $CLIENT channels $EMULATOR_ENV | grep -qx '$channel'"
journalctl -u calmirror.service --no-pager -o cat | tail -4 | sed 's/^/   /'

echo "boot-test: $PASSED passed, $FAILED failed"
systemctl poweroff --no-block
