#!/usr/bin/env bash
# Boot a throwaway systemd-nspawn container (the host's /usr on a tmpfs root, no network) and run
# in-container.sh in it: install.sh twice, then calmirror.service under a real systemd.
#   tests/deploy/nspawn/boot-test.sh [WORKDIR]   (root; needs systemd-nspawn and /usr/bin/python3)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
WORKDIR=${1:-$(mktemp -d /tmp/calmirror-boot-test.XXXXXX)}
WHEELS=${CALMIRROR_WHEELS:-/tmp/calmirror-deploy-venv/wheels}

[ "$(id -u)" -eq 0 ] || { echo "boot-test: needs root" >&2; exit 2; }
command -v systemd-nspawn >/dev/null || { echo "boot-test: needs systemd-nspawn (systemd-container)" >&2; exit 2; }

# The container has no network: pip installs from a wheelhouse built here.
mkdir -p "$WORKDIR/src" "$WORKDIR/out" "$WHEELS"
git -C "$REPO" ls-files -z | (cd "$REPO" && tar --null -T - -c) | tar -x -C "$WORKDIR/src"
started=$(date +%s)
# Built by a venv of the container's own /usr/bin/python3 (a fresh Debian has no pip for it).
[ -x "$WHEELS-builder/bin/pip" ] || /usr/bin/python3 -m venv "$WHEELS-builder"
"$WHEELS-builder/bin/pip" wheel -q --disable-pip-version-check --wheel-dir "$WHEELS" "$WORKDIR/src" \
    'setuptools>=68' wheel pip 2>&1 |
    grep -v "^WARNING: Location" || true
echo "boot-test: wheelhouse ready after $(($(date +%s) - started)) s"
: >"$WORKDIR/out/report.txt"

# volatile=yes: tmpfs root plus the host's read-only /usr, so nothing of the host changes.
# register=no/keep-unit: no D-Bus needed; firstboot masked or the empty /etc starts its wizard.
timeout 300 systemd-nspawn --quiet --register=no --keep-unit --machine="calmirror-boot-$$" \
    --directory=/ --volatile=yes --private-network \
    --bind="$WORKDIR/src:/src" --bind-ro="$HERE:/harness" --bind-ro="$WHEELS:/wheels" \
    --bind="$WORKDIR/out:/out" --bind-ro=/etc/ssl \
    --bind-ro="$HERE/boot-test.service:/etc/systemd/system/boot-test.service" \
    --boot systemd.firstboot=off systemd.mask=systemd-firstboot.service \
    systemd.mask=caddy.service systemd.mask=prometheus.service systemd.mask=systemd-networkd-wait-online.service \
    systemd.wants=boot-test.service \
    >"$WORKDIR/out/console.txt" 2>&1 || echo "boot-test: the container exited with $?"
echo "boot-test: container finished after $(($(date +%s) - started)) s"
cat "$WORKDIR/out/report.txt"
grep -q '^boot-test: [0-9]* passed, 0 failed$' "$WORKDIR/out/report.txt"
