#!/usr/bin/env bash
# Acceptance of the 9P2000.L.Z dialect by software nobody here wrote, plus the
# chaos test of our own client and server (see docs/ZEROFS.md):
#   1. the official `zerofs-client` wheel from PyPI, in the project's test
#      venv (target/py-venv), runs tests/zerofs/test_official_python.py
#      against `ninefold serve` (memfs and passthrough), including a SIGKILL
#      restart of the server mid-session; and checks that diod (a plain
#      9P2000.L server) refuses it the documented way;
#   2. the official `zerofs-client` crate from crates.io, in the standalone
#      project tests/zerofs-rust (own lock file, built into
#      target/zerofs-rust), does the same operations;
#   3. chaos: our Rust client with 8 tasks against a passthrough `serve`
#      that is SIGKILLed and restarted at random moments (>= 20 times),
#      checked against a model (crates/ninefold-cli/tests/chaos.rs).
# The peers are test-only (AGPL-3.0); nothing we ship links them.
#
#   scripts/test-zerofs.sh
#   NINEFOLD_BIN=path/to/ninefold     server binary (default target/release/ninefold)
#   NINEFOLD_SKIP_ZEROFS_PEERS=1      leave out parts 1 and 2 (said so in the summary)
#   NINEFOLD_ZEROFS_CLIENT_VERSION    pin the PyPI wheel (the crate is pinned in
#                                     tests/zerofs-rust/Cargo.toml; default: newest wheel)
#
# Last line: "N passed, N failed" over the three parts.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
target_dir=${CARGO_TARGET_DIR:-$root/target}
venv=$target_dir/py-venv
py=${PYTHON:-python3}
passed=0
failed=0
results=()

say() { printf '\n== %s\n' "$*"; }
record() { # name rc
    if [ "$2" = 0 ]; then
        passed=$((passed + 1)); results+=("PASS  $1")
    else
        failed=$((failed + 1)); results+=("FAIL  $1")
    fi
}

say "ninefold server binary"
bin=${NINEFOLD_BIN:-$target_dir/release/ninefold}
if [ ! -x "$bin" ]; then
    CARGO_INCREMENTAL=0 nice -n 10 cargo build --release -p ninefold-cli
fi
bin=$(realpath "$bin")
export NINEFOLD_BIN=$bin
echo "$bin"

if [ "${NINEFOLD_SKIP_ZEROFS_PEERS:-0}" = 1 ]; then
    echo "SKIPPED: official zerofs-client peers (NINEFOLD_SKIP_ZEROFS_PEERS=1)"
    [ -n "${NINEFOLD_SKIPS_FILE:-}" ] \
        && echo "official zerofs-client peers, Python and Rust (NINEFOLD_SKIP_ZEROFS_PEERS=1)" >> "$NINEFOLD_SKIPS_FILE"
else
    say "peer 1: zerofs-client wheel (PyPI) in $venv"
    if [ ! -x "$venv/bin/python" ]; then
        "$py" -m venv "$venv"
    fi
    spec=zerofs-client
    [ -n "${NINEFOLD_ZEROFS_CLIENT_VERSION:-}" ] && spec="zerofs-client==$NINEFOLD_ZEROFS_CLIENT_VERSION"
    # Only adds packages (the venv is shared with the python suite).
    "$venv/bin/python" -m pip install -q 'pytest>=8' 'pytest-asyncio>=0.24' 'ruff>=0.5' \
        && "$venv/bin/python" -m pip install -q --upgrade "$spec" \
        || { echo "cannot install $spec from PyPI (set NINEFOLD_SKIP_ZEROFS_PEERS=1 to leave the peers out)" >&2; exit 1; }
    zver=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("zerofs-client"))')
    echo "zerofs-client (PyPI) $zver"
    "$venv/bin/ruff" check tests/zerofs
    "$venv/bin/ruff" format --check tests/zerofs
    say "pytest tests/zerofs (official Python client vs ninefold serve: memfs, passthrough; diod refusal)"
    rc=0
    (cd tests/zerofs && "$venv/bin/python" -m pytest -q -p no:cacheprovider -rs .) || rc=$?
    record "official Python zerofs-client $zver (tests/zerofs)" "$rc"

    say "peer 2: zerofs-client crate (crates.io) in tests/zerofs-rust"
    rc=0
    (cd tests/zerofs-rust && CARGO_TARGET_DIR=$target_dir/zerofs-rust CARGO_INCREMENTAL=0 \
        nice -n 10 cargo build --release --locked -q) || rc=$?
    if [ "$rc" != 0 ]; then
        echo "cannot build the zerofs-client crate peer (crates.io)" >&2
        exit 1
    fi
    cver=$(grep -A1 '^name = "zerofs-client"' tests/zerofs-rust/Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p')
    echo "zerofs-client (crates.io) $cver"
    peer=$target_dir/zerofs-rust/release/zerofs-rust-peer
    export_dir=$(mktemp -d "${TMPDIR:-/tmp}/ninefold-zerofs-rs.XXXXXX")
    rc=0
    "$peer" --bin "$bin" --memory || rc=$?
    record "official Rust zerofs-client $cver vs memfs" "$rc"
    rc=0
    "$peer" --bin "$bin" --dir "$export_dir" || rc=$?
    record "official Rust zerofs-client $cver vs passthrough" "$rc"
    rm -rf "$export_dir"
fi

say "chaos: 8 tasks, one client, serve SIGKILLed and restarted >= 20 times (crates/ninefold-cli/tests/chaos.rs)"
rc=0
NINEFOLD_BIN=$bin nice -n 10 cargo test -q -p ninefold-cli --test chaos \
    -- --nocapture --test-threads 1 || rc=$?
record "chaos (our client vs ninefold serve, SIGKILL restarts)" "$rc"

say "summary"
printf '%s\n' "${results[@]}"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
