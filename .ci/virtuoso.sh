#!/usr/bin/env bash
# Install Virtuoso Open Source (virtuoso-t, isql-vt) from Debian's packages, non-interactively.
#
# The tests start their own throw-away Virtuoso (a copied ini, database files in a temp dir,
# ports on 127.0.0.1; see tests/stores.py). The packaged system instance is never used: its
# postinst would start it on 0.0.0.0:8890/1111, so service starts are blocked for the install
# (policy-rc.d exit 101) and the dba password is left blank, which keeps the daemon disabled.
set -euo pipefail

if command -v virtuoso-t >/dev/null 2>&1 && command -v isql-vt >/dev/null 2>&1; then
    echo "virtuoso: already installed ($(command -v virtuoso-t))"
    exit 0
fi

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

POLICY=/usr/sbin/policy-rc.d
ADDED_POLICY=""
if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
    $SUDO chmod 755 "$POLICY"
    ADDED_POLICY=1
fi
cleanup() { if [ -n "$ADDED_POLICY" ]; then $SUDO rm -f "$POLICY"; fi; }
trap cleanup EXIT

# Answer the package's questions before it asks them (blank password: system daemon disabled).
$SUDO debconf-set-selections <<'SEL'
virtuoso-opensource-7 virtuoso-opensource-7/dba-password password
virtuoso-opensource-7 virtuoso-opensource-7/dba-password-again password
virtuoso-opensource-7 virtuoso-opensource-7/register-odbc-dsn boolean false
SEL

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends virtuoso-opensource </dev/null

for tool in virtuoso-t isql-vt; do
    command -v "$tool" >/dev/null 2>&1 || { echo "virtuoso: $tool missing after install" >&2; exit 1; }
done
if [ ! -f /etc/virtuoso-opensource-7/virtuoso.ini ] && [ ! -f /usr/share/virtuoso-opensource-7/virtuoso.ini ]; then
    echo "virtuoso: no template virtuoso.ini found after install" >&2
    exit 1
fi
echo "virtuoso: installed $(virtuoso-t -? 2>&1 | grep -m1 -i version || echo virtuoso-t)"
