#!/usr/bin/env bash
# Runs diod, the reference C 9P2000.L server (Debian's package, installed on
# first use), in the foreground on 127.0.0.1, exporting one directory and
# diod's synthetic "ctl" tree, with no authentication. The test scripts and
# the client's tests start diod only through this file.
#
#   scripts/diod-serve.sh DIR PORT [SECONDS]
#
#   DIR      exported; clients attach with aname = DIR's real path
#   PORT     TCP port on 127.0.0.1
#   SECONDS  diod is stopped after this long (default 600): a forgotten
#            server cannot outlive its test
# Environment: DIOD_EXTRA extra diod flags (e.g. "-d 1" for a protocol trace).
#
# Notes on diod 1.0.24: it needs the passwd/group lookup (no -N): the Linux
# client's first attach is uname "nobody" with n_uname -1, and with -N diod
# refuses it. It grants at most msize 65536. "-c /dev/null" ignores any
# /etc/diod.conf on the machine.
set -euo pipefail
usage="usage: diod-serve.sh DIR PORT [SECONDS]"
dir=${1:?$usage}
port=${2:?$usage}
secs=${3:-600}
if ! command -v diod >/dev/null; then
    ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1 || apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends diod >&2 \
        || { echo "diod-serve: cannot install diod (apt-get install diod)" >&2; exit 1; }
fi
mkdir -p "$dir"
exec timeout "$secs" diod -f -n -l "127.0.0.1:$port" -e "$(realpath "$dir")" -e ctl \
    -L stderr -c /dev/null ${DIOD_EXTRA:-}
