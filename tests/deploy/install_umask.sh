#!/usr/bin/env bash
# Run deploy/install.sh --no-start under root's umask 077, in a private mount namespace whose /etc and /opt
# are overlays (this machine's stay untouched), then check what the service user gets: a venv it can
# import, and secrets it cannot read.
#   tests/deploy/install_umask.sh     (as root; needs unshare, overlayfs, setpriv and PyPI)
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ -z "${CALMIRROR_UMASK_WORK:-}" ]; then
    [ "$(id -u)" -eq 0 ] || { echo "install_umask: run as root"; exit 2; }
    WORK=$(mktemp -d /tmp/calmirror-umask.XXXXXX)
    trap 'rm -rf "$WORK"' EXIT
    CALMIRROR_UMASK_WORK=$WORK unshare --mount --propagation private "$0"
    exit
fi

WORK=$CALMIRROR_UMASK_WORK
fail() {
    echo "install_umask: $*"
    exit 1
}
for dir in /etc /opt; do
    mkdir -p "$WORK$dir/upper" "$WORK$dir/work"
    mount -t overlay overlay -o "lowerdir=$dir,upperdir=$WORK$dir/upper,workdir=$WORK$dir/work" "$dir"
done
# install.sh must not enable anything in this machine's systemd.
if [ -d /run/systemd/system ]; then
    mount -t tmpfs tmpfs /run/systemd
fi

umask 077
# A secret written carelessly (world-readable) before the install: install.sh must make it 0600.
mkdir -p /etc/calmirror/credentials
(umask 022 && echo "not-a-real-key-0123456789" >/etc/calmirror/credentials/WEBHOOK_API_KEY)
deploy/install.sh --source "$PWD" --no-start >"$WORK/install.log" 2>&1 || {
    cat "$WORK/install.log"
    fail "install.sh failed"
}

as_calmirror() { setpriv --reuid=calmirror --regid=calmirror --clear-groups "$@"; }
# -I: not from the working directory (this checkout) but from the venv.
as_calmirror /opt/calmirror/venv/bin/python -I -c \
    'import aiohttp, calmirror.cli; assert calmirror.cli.__file__.startswith("/opt/calmirror/venv/")' ||
    fail "the calmirror user cannot import calmirror from /opt/calmirror/venv"
as_calmirror /opt/calmirror/venv/bin/calmirror --help >/dev/null ||
    fail "the calmirror user cannot run /opt/calmirror/venv/bin/calmirror"
for want in "/etc/calmirror 755" "/etc/calmirror/calmirror.env 600" "/etc/calmirror/credentials 700" \
    "/etc/calmirror/credentials/WEBHOOK_API_KEY 600" "/etc/systemd/system/calmirror.service 644" \
    "/etc/systemd/system/calmirror.service.d/credentials.conf 644"; do
    set -- $want
    [ "$(stat -c %a "$1")" = "$2" ] || fail "$1 has mode $(stat -c %a "$1"), not $2"
done
! as_calmirror cat /etc/calmirror/credentials/WEBHOOK_API_KEY >/dev/null 2>&1 ||
    fail "the calmirror user can read a credential file"
echo "install_umask: under umask 077 the venv is usable by calmirror, the secrets are 0600 in a 0700 directory"
