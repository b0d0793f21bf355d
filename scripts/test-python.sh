#!/usr/bin/env bash
# The Python package `ninefold` (bindings/python): builds the abi3 wheel in
# release with maturin (in the shared workspace target dir), installs it in
# a project-local venv (target/py-venv) with its test tools from PyPI, then
# runs ruff, mypy --strict (package, tests, examples, bench) and pytest
# against `ninefold serve` (memfs, passthrough) and diod. Last, it installs
# the package from source the way a user does (`pip install ./bindings/python`
# in a fresh venv: a PEP 517 build through maturin, which compiles into the
# same target dir and so reuses the wheel's build) and runs the README's
# example with it against `ninefold serve`.
#
#   scripts/test-python.sh            # everything
#   NINEFOLD_BIN=path/to/ninefold     # the server binary (default target/release/ninefold)
#   NINEFOLD_PYTHON_SKIP_DIOD=1       # run without diod (its cases are skipped, and said so)
#   NINEFOLD_PYTHON_SKIP_THP=1        # on a kernel without transparent huge pages (the huge-page check is skipped, and said so)
#   NINEFOLD_PYTHON_SKIP_SOURCE=1     # leave out the source install (said so in the summary)
#
# pytest's last line ("N passed, ...") is the summary CI reads.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
target_dir=${CARGO_TARGET_DIR:-$root/target}
venv=$target_dir/py-venv
py=${PYTHON:-python3}

say() { printf '\n== %s\n' "$*"; }

say "python venv ($venv)"
if [ ! -x "$venv/bin/python" ]; then
    "$py" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q \
    'maturin>=1.7,<2' 'pytest>=8' 'pytest-asyncio>=0.24' 'mypy>=1.10' 'ruff>=0.5' \
    'fsspec>=2023.1' pandas pandas-stubs typing_extensions

say "ninefold server binary"
bin=${NINEFOLD_BIN:-$target_dir/release/ninefold}
if [ ! -x "$bin" ]; then
    CARGO_INCREMENTAL=0 cargo build --release -p ninefold-cli
fi
export NINEFOLD_BIN=$bin

say "peer: diod"
if ! command -v diod >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y diod >/dev/null \
            || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y diod >/dev/null; } \
            || true
    fi
fi
if ! command -v diod >/dev/null; then
    if [ "${NINEFOLD_PYTHON_SKIP_DIOD:-0}" = 1 ]; then
        echo "diod missing: its cases are SKIPPED (NINEFOLD_PYTHON_SKIP_DIOD=1)"
    else
        echo "diod is not installed and could not be installed (set NINEFOLD_PYTHON_SKIP_DIOD=1 to skip its cases)" >&2
        exit 1
    fi
fi

say "wheel: maturin build --release (abi3, CPython >= 3.9)"
rm -rf "$target_dir/wheels/ninefold-"*.whl
CARGO_INCREMENTAL=0 "$venv/bin/maturin" build --release --quiet \
    --manifest-path bindings/python/Cargo.toml --out "$target_dir/wheels"
wheel=$(ls "$target_dir/wheels/ninefold-"*-cp39-abi3-*.whl)
echo "built $wheel"
"$venv/bin/python" -m pip install -q --force-reinstall --no-deps "$wheel"

cd bindings/python
say "ruff"
"$venv/bin/ruff" check python tests examples bench
"$venv/bin/ruff" format --check python tests examples bench

say "mypy --strict"
"$venv/bin/mypy" --strict python/ninefold tests examples bench

say "pytest"
set +e
"$venv/bin/python" -m pytest -q -p no:cacheprovider -rs tests | tee "$target_dir/py-pytest.log"
status=${PIPESTATUS[0]}
set -e
summary=$(tail -n 1 "$target_dir/py-pytest.log")
[ "$status" = 0 ] || { echo "pytest failed: $summary" >&2; exit "$status"; }

cd "$root"
source_check=failed
if [ "${NINEFOLD_PYTHON_SKIP_SOURCE:-0}" = 1 ]; then
    source_check="SKIPPED (NINEFOLD_PYTHON_SKIP_SOURCE=1)"
else
    say "source install: pip install ./bindings/python in a fresh venv"
    src_venv=$target_dir/py-src-venv
    "$py" -m venv --clear "$src_venv"
    "$src_venv/bin/python" -m pip install -q --upgrade pip
    # Build isolation fetches maturin from PyPI, as on a user's machine;
    # CARGO_TARGET_DIR lets cargo reuse what the wheel build compiled.
    CARGO_TARGET_DIR=$target_dir CARGO_INCREMENTAL=0 \
        "$src_venv/bin/python" -m pip install -q ./bindings/python
    log=$(mktemp)
    "$bin" serve --memory -l tcp://127.0.0.1:0 >"$log" 2>&1 &
    serve_pid=$!
    trap 'kill "$serve_pid" 2>/dev/null || true; rm -f "$log"' EXIT
    target=
    for _ in $(seq 300); do
        target=$(grep -o 'tcp://[0-9.:]*' "$log" | head -n 1 || true)
        [ -n "$target" ] && break
        sleep 0.1
    done
    [ -n "$target" ] || { cat "$log" >&2; echo "ninefold serve did not start" >&2; exit 1; }
    out=$(cd "$target_dir" && "$src_venv/bin/python" "$root/bindings/python/examples/seed_example.py" "$target")
    echo "$out"
    # The example prints the file's length twice and a listing of /demo.
    [ "$(head -n 1 <<<"$out")" = "17 17 True" ] || { echo "unexpected example output" >&2; exit 1; }
    where=$(cd "$target_dir" && "$src_venv/bin/python" -c 'import ninefold; print(ninefold.__file__)')
    case $where in
        "$src_venv"/*) ;;
        *) echo "ninefold imported from $where, not the fresh venv" >&2; exit 1 ;;
    esac
    kill "$serve_pid" 2>/dev/null || true
    wait "$serve_pid" 2>/dev/null || true
    trap - EXIT
    rm -f "$log"
    source_check=passed
fi

echo
echo "source install: $source_check"
echo "$summary"
