#!/usr/bin/env bash
# Install (or upgrade) calmirror as a hardened systemd service on a Debian/Ubuntu machine.
# Safe to rerun: it never overwrites an edited /etc/calmirror/calmirror.env or any credential.
set -euo pipefail
# Everything installed (the venv, the unit) must be readable by the service user whatever root's umask
# is (077 would make the venv unimportable); the secrets get their 0600/0700 modes explicitly below.
umask 022

PREFIX=/opt/calmirror
VENV=$PREFIX/venv
ETC=/etc/calmirror
ENV_FILE=$ETC/calmirror.env
CREDENTIALS=$ETC/credentials
UNIT_DIR=/etc/systemd/system
# /etc/sysusers.d, the administrator's place (not /usr/lib, which belongs to packages).
SYSUSERS_FILE=/etc/sysusers.d/calmirror.conf
PYTHON=${PYTHON:-/usr/bin/python3}
SOURCE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DOMAIN=""
START=1
# The secrets calmirror reads from $CREDENTIALS_DIRECTORY; they are kept out of the env file.
SECRET_PATTERN='^((GOOGLE|MICROSOFT)_CLIENT_SECRET|(GOOGLE|MICROSOFT)_ACCOUNT_[0-9]+_(REFRESH_TOKEN|CLIENT_SECRET)|CALDAV_ACCOUNT_[0-9]+_PASSWORD|ICS_ACCOUNT_[0-9]+_URL|WEBHOOK_API_KEY)='

usage() {
    cat <<EOF
Usage: sudo deploy/install.sh [--source DIR] [--caddy DOMAIN] [--no-start]

Installs calmirror from a source checkout into $VENV and runs it under systemd:
  - the system user 'calmirror' ($SYSUSERS_FILE, systemd-sysusers)
  - $ENV_FILE (0600), copied from .env.example with the secrets commented out,
    only when it does not exist yet (an edited file is never touched)
  - $CREDENTIALS/ (0700) for the secrets, one file per variable, e.g.
    $CREDENTIALS/GOOGLE_CLIENT_SECRET
  - $UNIT_DIR/calmirror.service, enabled at boot
Rerun it after 'git pull' to upgrade, and after adding or removing a credential file:
the service is restarted when it was running.

Options:
  --source DIR     the calmirror checkout to install (default: $SOURCE)
  --caddy DOMAIN   also install Caddy as the https front for DOMAIN (port 443 only)
  --no-start       install and enable, but do not start or restart the service
  -h, --help       show this help
Environment: PYTHON (default /usr/bin/python3, 3.11 or newer) builds the venv.
EOF
}

say() { echo "install.sh: $*"; }
die() {
    echo "install.sh: error: $*" >&2
    exit 1
}

while [ $# -gt 0 ]; do
    case "$1" in
        --source) SOURCE=${2:?--source needs a directory}; shift 2 ;;
        --caddy) DOMAIN=${2:?--caddy needs a domain name}; shift 2 ;;
        --no-start) START=0; shift ;;
        -h | --help) usage; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done

[ "$(id -u)" -eq 0 ] || die "run as root (sudo deploy/install.sh)"
[ -f "$SOURCE/pyproject.toml" ] && [ -f "$SOURCE/deploy/systemd/calmirror.service" ] ||
    die "--source $SOURCE is not a calmirror checkout"
if [ -n "$DOMAIN" ] && ! [[ "$DOMAIN" =~ ^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]]; then
    die "--caddy '$DOMAIN' is not a domain name"
fi

systemd_running() { [ -d /run/systemd/system ]; }

apt_install() {
    command -v apt-get >/dev/null || die "missing $*, and there is no apt-get to install it"
    say "installing $* with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null ||
        { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null; }
}

install_python() {
    [ -x "$PYTHON" ] || apt_install python3
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
        die "$PYTHON is $("$PYTHON" -V 2>&1); calmirror needs Python 3.11 or newer (Debian 12, Ubuntu 24.04)"
    "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null || apt_install python3-venv
}

create_user() {
    install -D -m 0644 "$SOURCE/deploy/systemd/calmirror.sysusers" "$SYSUSERS_FILE"
    if command -v systemd-sysusers >/dev/null; then
        systemd-sysusers "$SYSUSERS_FILE"
    elif ! id calmirror >/dev/null 2>&1; then
        useradd --system --home-dir /var/lib/calmirror --no-create-home --shell /usr/sbin/nologin \
            --comment "calmirror calendar mirror daemon" calmirror
    fi
    id calmirror >/dev/null || die "could not create the user calmirror"
    say "user calmirror: $(id calmirror)"
}

install_venv() {
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating $VENV"
        install -d -m 0755 "$PREFIX"
        "$PYTHON" -m venv "$VENV"
    fi
    say "installing calmirror from $SOURCE into $VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check --upgrade pip
    "$VENV/bin/pip" install -q --disable-pip-version-check --upgrade "$SOURCE"
    # Repairs a venv an earlier run installed under umask 077.
    chmod -R u+rwX,go+rX,go-w "$PREFIX"
    say "installed $("$VENV/bin/pip" show calmirror 2>/dev/null | sed -n 's/^Version: /calmirror /p')"
}

write_env_file() {
    install -d -m 0755 -o root -g root "$ETC"
    install -d -m 0700 -o root -g root "$CREDENTIALS"
    chmod 0700 "$CREDENTIALS"
    if [ -e "$ENV_FILE" ]; then
        say "keeping the existing $ENV_FILE"
    else
        say "writing $ENV_FILE from .env.example: edit it, then put the secrets in $CREDENTIALS/"
        local tmp
        tmp=$(mktemp "$ETC/.calmirror.env.XXXXXX")
        chmod 0600 "$tmp"
        {
            echo "# Read by systemd (EnvironmentFile=): no inline comments, no \${...}, no 'export'."
            echo "# Secrets do not belong here: put each in $CREDENTIALS/<NAME> (one value per file)."
            sed -E "s~$SECRET_PATTERN~# secret: goes in $CREDENTIALS/\\1, not here: \\1=~" "$SOURCE/.env.example"
            if [ -n "$DOMAIN" ]; then
                # The address Google posts to is the domain Caddy serves; push needs a key of your own.
                echo "WEBHOOK_BASE_URL=https://$DOMAIN"
            fi
        } >"$tmp"
        mv "$tmp" "$ENV_FILE"
    fi
    chown root:root "$ENV_FILE"
    chmod 0600 "$ENV_FILE"
    if grep -Eq "$SECRET_PATTERN" "$ENV_FILE"; then
        say "warning: $ENV_FILE holds secrets; they override the files in $CREDENTIALS/"
    fi
    find "$CREDENTIALS" -type f ! -perm 0600 -exec chmod 0600 {} +
}

# One LoadCredential= per secret file: a missing file would fail the start, so only existing ones.
write_credentials_dropin() {
    local dropin=$UNIT_DIR/calmirror.service.d/credentials.conf file name
    install -d -m 0755 "$UNIT_DIR/calmirror.service.d"
    {
        echo "# Written by deploy/install.sh from the files in $CREDENTIALS/; rerun it after adding or removing one."
        echo "[Service]"
        for file in "$CREDENTIALS"/*; do
            [ -f "$file" ] || continue
            name=$(basename "$file")
            # The names calmirror reads from $CREDENTIALS_DIRECTORY (calmirror/config/sources.py).
            if [[ "$name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
                echo "LoadCredential=$name:$file"
            else
                say "warning: ignoring $file: credential files are named like the variable, e.g. WEBHOOK_API_KEY" >&2
            fi
        done
    } >"$dropin.tmp"
    mv "$dropin.tmp" "$dropin"
    say "credentials: $(grep -c '^LoadCredential=' "$dropin") file(s) in $CREDENTIALS/"
}

install_unit() {
    install -m 0644 "$SOURCE/deploy/systemd/calmirror.service" "$UNIT_DIR/calmirror.service"
    write_credentials_dropin
    if systemd_running; then
        systemctl daemon-reload
        systemctl enable calmirror.service 2>&1 | sed 's/^/install.sh: /'
    else
        say "systemd is not running here: installed the unit, but did not enable it"
    fi
}

install_caddy() {
    [ -n "$DOMAIN" ] || return 0
    command -v caddy >/dev/null || apt_install caddy
    install -D -m 0644 "$SOURCE/deploy/caddy/Caddyfile" /etc/caddy/Caddyfile
    install -d -m 0755 /etc/systemd/system/caddy.service.d
    printf '[Service]\nEnvironment=CALMIRROR_DOMAIN=%s\n' "$DOMAIN" >/etc/systemd/system/caddy.service.d/calmirror.conf
    CALMIRROR_DOMAIN=$DOMAIN caddy validate --adapter caddyfile --config /etc/caddy/Caddyfile >/dev/null 2>&1 ||
        die "caddy rejects /etc/caddy/Caddyfile (run: CALMIRROR_DOMAIN=$DOMAIN caddy validate --config /etc/caddy/Caddyfile)"
    if systemd_running; then
        systemctl daemon-reload
        systemctl enable caddy.service 2>&1 | sed 's/^/install.sh: /'
        systemctl restart caddy.service
    fi
    say "caddy serves https://$DOMAIN/api/v1/webhooks/google-calendar"
}

start_service() {
    if [ "$START" -eq 0 ] || ! systemd_running; then
        say "not starting calmirror (start it with: systemctl start calmirror)"
        return 0
    fi
    if systemctl is-active --quiet calmirror.service; then
        say "restarting calmirror to run the new version"
        systemctl restart calmirror.service
    # Checked as the unit will run: no inherited variables, the env file outranking the credential files.
    elif env -i PATH=/usr/bin:/bin CREDENTIALS_DIRECTORY=$CREDENTIALS \
        "$VENV/bin/calmirror" check-config --env-file "$ENV_FILE" >/dev/null 2>&1; then
        say "starting calmirror"
        systemctl reset-failed calmirror.service 2>/dev/null || true
        systemctl start calmirror.service
    else
        say "the configuration is not complete yet; check it with:"
        say "  sudo CREDENTIALS_DIRECTORY=$CREDENTIALS $VENV/bin/calmirror check-config --env-file $ENV_FILE"
        say "then: sudo systemctl start calmirror"
        return 0
    fi
    say "calmirror: $(systemctl is-active calmirror.service)"
}

install_python
create_user
install_venv
write_env_file
install_unit
install_caddy
start_service
say "done"
