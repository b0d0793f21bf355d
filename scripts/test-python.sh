#!/usr/bin/env bash
# The Python package `ninefold` (bindings/python): builds the abi3 wheel in
# release with maturin (in the shared workspace target dir), installs it in
# a project-local venv (target/py-venv) with its test tools from PyPI, then
# runs ruff, mypy --strict (package, tests, examples, bench) and pytest
# against `ninefold serve` (memfs, passthrough) and diod.
#
#   scripts/test-python.sh            # everything
#   NINEFOLD_BIN=path/to/ninefold     # the server binary (default target/release/ninefold)
#   NINEFOLD_PYTHON_SKIP_DIOD=1       # run without diod (its cases are skipped, and said so)
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
"$venv/bin/python" -m pytest -q -p no:cacheprovider -rs tests
