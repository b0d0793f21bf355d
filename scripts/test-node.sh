#!/usr/bin/env bash
# The Node/TypeScript package (bindings/node, npm name `ninefold`):
#   1. installs its npm dev dependencies project-locally (npm ci),
#   2. builds the napi-rs addon in release into the shared target dir,
#   3. type-checks the .d.ts, tests and examples with tsc --strict,
#   4. runs `node --test` against ninefold serve (memory, passthrough) and diod,
#   5. runs the seed's example (ESM and CommonJS) and the stream pipeline example,
#   6. packs the package and installs the tarball, and the source directory,
#      into scratch projects and runs them from there.
#
# Needs node >= 20 and npm (installed from apt when missing), diod (apt),
# cargo. NINEFOLD_BIN: the ninefold binary (default target/release/ninefold,
# built when missing). NINEFOLD_NODE_SKIP_DIOD=1 leaves diod out (printed).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
pkg=$root/bindings/node
export DEBIAN_FRONTEND=noninteractive

step() { printf '\n== node: %s\n' "$*"; }
passed=0
failed=0
check() { # check NAME CMD...: one counted check
    local name=$1; shift
    if "$@"; then passed=$((passed + 1)); echo "ok: $name"; else failed=$((failed + 1)); echo "FAILED: $name"; fi
}

step "toolchain"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    apt-get install -y nodejs npm >/dev/null
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then echo "node >= 20 needed, found $(node --version)" >&2; exit 1; fi
echo "node $(node --version), npm $(npm --version)"

if [ "${NINEFOLD_NODE_SKIP_DIOD:-0}" = 1 ]; then
    echo "SKIPPING the diod backend (NINEFOLD_NODE_SKIP_DIOD=1)"
else
    command -v diod >/dev/null || apt-get install -y diod >/dev/null
    command -v diod >/dev/null || { echo "diod is missing and could not be installed (NINEFOLD_NODE_SKIP_DIOD=1 to skip it)" >&2; exit 1; }
fi

bin=${NINEFOLD_BIN:-${CARGO_TARGET_DIR:-$root/target}/release/ninefold}
if [ ! -x "$bin" ]; then
    step "release build of the ninefold command"
    cargo build --release -p ninefold-cli
fi
export NINEFOLD_BIN=$(realpath "$bin")

step "npm dev dependencies (project-local)"
(cd "$pkg" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)

step "release build of the addon (ninefold-node)"
rm -f "$pkg/ninefold.node"
(cd "$pkg" && CARGO_INCREMENTAL=0 node scripts/build.js)

step "tsc --strict (index.d.ts, fs.d.ts, tests, examples)"
rm -rf "$pkg/build"
(cd "$pkg" && npx tsc -p tsconfig.json)

step "node --test"
log=$(mktemp)
set +e
(cd "$pkg" && node --test --test-concurrency=1 --test-reporter=tap build/test/*.test.mjs) 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
np=$(awk '/^# pass /{print $3}' "$log" | tail -1)
nf=$(awk '/^# fail /{print $3}' "$log" | tail -1)
rm -f "$log"
passed=$((passed + ${np:-0}))
failed=$((failed + ${nf:-0}))
if [ "$rc" != 0 ] && [ "${nf:-0}" = 0 ]; then failed=$((failed + 1)); fi

step "examples against ninefold serve (the seed's example as ESM and CommonJS, stream pipeline)"
scratch=$(mktemp -d)
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf "$scratch"
}
trap cleanup EXIT
"$NINEFOLD_BIN" serve --memory -l "unix:$scratch/9p.sock" --log warn >"$scratch/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do [ -S "$scratch/9p.sock" ] && break; sleep 0.05; done
target=unix:$scratch/9p.sock
expect=$'17 17n true\nnotes.txt\ndata.bin'
seed_output() { # seed_output FILE: its output, entries sorted (listing order is the server's)
    local out; out=$(node "$1" "$target") || return 1
    printf '%s\n' "$out" | head -1
    printf '%s\n' "$out" | tail -n +2 | sort -r
}
check "seed example (ESM)" test "$(seed_output "$pkg/build/examples/seed.mjs")" = "$expect"
check "seed example (CommonJS)" test "$(seed_output "$pkg/build/examples/seed.cjs")" = "$expect"
head -c 3000017 /dev/urandom >"$scratch/in.bin"
check "stream pipeline example" node "$pkg/build/examples/pipeline.mjs" "$target" "$scratch/in.bin" /copy.bin "$scratch/out.bin"
check "stream pipeline round trip" cmp -s "$scratch/in.bin" "$scratch/out.bin"

step "packaging: npm pack, then install the tarball and the source directory"
(cd "$pkg" && npm pack --pack-destination "$scratch" --loglevel=error >/dev/null)
tarball=$(ls "$scratch"/ninefold-*.tgz)
check "tarball carries the addon and the types" sh -c "tar tzf '$tarball' | grep -q package/ninefold.node && tar tzf '$tarball' | grep -q package/index.d.ts"
probe_esm='import { Client, isFile } from "ninefold"; import { createFs } from "ninefold/fs";
const c = await Client.connect(process.argv[2]); const fs = createFs(c);
await fs.writeFile("/probe", "x"); console.log(isFile(await c.metadata("/probe")), (await fs.readFile("/probe", "utf8"))); await c.close();'
probe_cjs='const { Client } = require("ninefold"); const { createFs } = require("ninefold/fs");
(async () => { const c = await Client.connect(process.argv[2]); console.log((await createFs(c).stat("/probe")).isFile()); await c.close(); })();'
for kind in tarball source; do
    proj=$scratch/proj-$kind
    mkdir -p "$proj"
    (cd "$proj" && npm init -y >/dev/null)
    src=$tarball
    if [ "$kind" = source ]; then
        # From the checkout, the install script builds the addon (a no-op
        # cargo build here, since step 2 built it).
        src=$pkg
        rm -f "$pkg/ninefold.node"
    fi
    check "npm install ($kind)" sh -c "cd '$proj' && npm install --no-audit --no-fund --loglevel=error '$src' >/dev/null"
    printf '%s\n' "$probe_esm" >"$proj/probe.mjs"
    printf '%s\n' "$probe_cjs" >"$proj/probe.cjs"
    check "installed package from ESM ($kind)" test "$(cd "$proj" && node probe.mjs "$target")" = "true x"
    check "installed package from CommonJS ($kind)" test "$(cd "$proj" && node probe.cjs "$target")" = "true"
done
check "the source install built ninefold.node" test -f "$pkg/ninefold.node"

echo
echo "node: $passed passed, $failed failed"
[ "$failed" = 0 ]
