#!/usr/bin/env bash
# The Go module (bindings/go) against ninefold serve (memfs, passthrough)
# and diod: builds the native library (release, static) with
# `go generate`, checks gofmt and go vet, and runs `go test -race` with
# GODEBUG=cgocheck=1.
#
# Needs: go (1.24+), diod (installed with apt-get when missing). Without
# diod the suite fails unless NINEFOLD_GO_SKIP_DIOD=1 is set (then the
# diod runs are skipped, and the summary says so).
# Uses ${NINEFOLD_BIN:-target/release/ninefold} (built when missing) and
# the workspace's target directory (CARGO_TARGET_DIR is respected).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v go >/dev/null || { echo "test-go: go is not installed" >&2; exit 1; }

target_dir=${CARGO_TARGET_DIR:-target}
bin=${NINEFOLD_BIN:-$target_dir/release/ninefold}
if [ ! -x "$bin" ]; then
    CARGO_INCREMENTAL=0 cargo build --release -p ninefold-cli
fi
bin=$(realpath "$bin")

skip_note=""
if ! command -v diod >/dev/null; then
    if [ "${NINEFOLD_GO_SKIP_DIOD:-0}" = 1 ]; then
        skip_note=" (diod runs SKIPPED: NINEFOLD_GO_SKIP_DIOD=1)"
    else
        DEBIAN_FRONTEND=noninteractive apt-get install -y diod >/dev/null 2>&1 || true
        command -v diod >/dev/null || {
            echo "test-go: diod is missing and could not be installed (set NINEFOLD_GO_SKIP_DIOD=1 to skip it)" >&2
            exit 1
        }
    fi
fi

cd bindings/go
echo "== native library (go generate: cargo build --release -p ninefold-capi)"
go generate ./...

echo "== gofmt"
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
    echo "gofmt would change: $unformatted" >&2
    exit 1
fi

echo "== go vet"
go vet ./...

echo "== go test -race (GODEBUG=cgocheck=1)"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
NINEFOLD_BIN="$bin" GODEBUG=cgocheck=1 go test -race -count=1 -timeout 20m -v ./... 2>&1 | tee "$log" || status=$?
passed=$(grep -cE '^--- PASS' "$log" || true)
failed=$(grep -cE '^--- FAIL' "$log" || true)
if [ "$status" != 0 ] && [ "$failed" = 0 ]; then
    failed=1
fi
echo "go: $passed passed, $failed failed$skip_note"
exit "$status"
