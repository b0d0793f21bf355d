"""The Python client against the official ``zerofs-client`` wheel and the Rust
client, on one ``ninefold serve`` in one run.

Rows: ``write`` and ``read`` of a whole file (MiB/s, default 256 MiB) and
``metadata`` calls/s from 1 and 32 concurrent tasks. Read rows: ``read``
into a fresh buffer (Python's ``read`` returns a new ``bytes``; Rust's
``Client::read``), ``read_into, fresh`` (Rust only: open, fstat, a new
buffer of that size, ``File::read_into``, the way the binding's ``read``
reads), and ``read_into, reused`` (Python's ``File.read_into`` into one
``bytearray`` kept across reads; Rust's ``File::read_into`` into one
``Vec`` kept across reads). Each read row is the median of ``--reads``
reads per round.
Columns: the Rust client (``examples/bench_rust.rs``), the same with glibc's
``malloc`` putting its large blocks on transparent huge pages (``rust thp``:
the binding's large ``bytes`` are advised onto huge pages, a Rust ``Vec``
is not; this column shows what that choice is worth), ``ninefold``'s asyncio
and blocking APIs (32 threads for the concurrent row of the blocking ones),
and the official wheel's asyncio and blocking APIs. The server is
``ninefold serve --memory``, which speaks ``9P2000.L.Z`` (the only dialect
the official wheel speaks), so every client runs the same dialect.

Each round runs every column once against the same server, in an order that
rotates from round to round; the table shows the median of the rounds, so
load on a shared machine hits every column alike. Ratios: ours / Rust, each
Python row against the Rust row named (``VS_RUST``), and ours / official
(asyncio against asyncio, blocking against blocking).

    python bench/bench.py [--mib 256] [--secs 3] [--rounds 3] [--reads 3]
                          [--bin target/release/ninefold] [--no-official]
                          [--no-rust-thp]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import importlib
import importlib.metadata
import json
import operator
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import ninefold

REPO = Path(__file__).resolve().parents[3]
FILE = "/bench.bin"
Result = dict[str, float]


def start_server(binary: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    proc = subprocess.Popen(
        [binary, "serve", "--memory", "-l", "tcp://127.0.0.1:0"],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        m = re.search(r"listening on (tcp://\S+)", log.read_text())
        if m:
            return proc, m.group(1)
        time.sleep(0.02)
    proc.kill()
    raise RuntimeError(log.read_text())


async def rate_async(call: Callable[[], Awaitable[object]], tasks: int, secs: float) -> float:
    """Calls per second of ``call`` from ``tasks`` asyncio tasks."""
    deadline = time.perf_counter() + secs

    async def loop() -> int:
        n = 0
        while time.perf_counter() < deadline:
            await call()
            n += 1
        return n

    t = time.perf_counter()
    counts = await asyncio.gather(*(loop() for _ in range(tasks)))
    return sum(counts) / (time.perf_counter() - t)


def rate_sync(call: Callable[[], object], threads: int, secs: float) -> float:
    """Calls per second of ``call`` from ``threads`` threads."""
    deadline = time.perf_counter() + secs
    counts = [0] * threads

    def loop(i: int) -> None:
        while time.perf_counter() < deadline:
            call()
            counts[i] += 1

    t = time.perf_counter()
    ts = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for th in ts:
        th.start()
    for th in ts:
        th.join()
    return sum(counts) / (time.perf_counter() - t)


def timed(mib: int, t: float) -> float:
    return mib / (time.perf_counter() - t)


async def read_speed_async(
    mib: int, reads: int, read: Callable[[], Awaitable[object]], check: Callable[[object], bool]
) -> float:
    """The median MiB/s of `reads` timed calls of `read`, each checked."""
    speeds = []
    for _ in range(reads):
        t = time.perf_counter()
        got = await read()
        speeds.append(timed(mib, t))
        assert check(got)
        del got
    return statistics.median(speeds)


def read_speed_sync(
    mib: int, reads: int, read: Callable[[], object], check: Callable[[object], bool]
) -> float:
    """The median MiB/s of `reads` timed calls of `read`, each checked."""
    speeds = []
    for _ in range(reads):
        t = time.perf_counter()
        got = read()
        speeds.append(timed(mib, t))
        assert check(got)
        del got
    return statistics.median(speeds)


async def open_read_into(fs: ninefold.Client, buf: bytearray) -> int:
    """Opens the file and fills `buf` from offset 0 (asyncio)."""
    async with await fs.open(FILE, ninefold.OpenOptions(read=True)) as f:
        return await f.read_into(0, buf)


def open_read_into_sync(fs: ninefold.SyncClient, buf: bytearray) -> int:
    """Opens the file and fills `buf` from offset 0 (blocking)."""
    with fs.open(FILE, ninefold.OpenOptions(read=True)) as f:
        return f.read_into(0, buf)


def filled(buf: bytearray, want: bytes, got: object) -> bool:
    """Whether a `read_into` of `got` bytes left `buf` holding `want`."""
    return got == len(want) and buf == want


async def ours_async(target: str, mib: int, secs: float, reads: int) -> Result:
    out: Result = {}
    async with await ninefold.Client.connect(target) as fs:
        data = b"\x07" * (mib << 20)
        t = time.perf_counter()
        await fs.write(FILE, data)
        out["write_mib_s"] = timed(mib, t)
        out["read_mib_s"] = await read_speed_async(
            mib, reads, lambda: fs.read(FILE), functools.partial(operator.eq, data)
        )
        buf = bytearray(len(data))
        out["reused_mib_s"] = await read_speed_async(
            mib,
            reads,
            functools.partial(open_read_into, fs, buf),
            functools.partial(filled, buf, data),
        )
        del buf, data
        for tasks in (1, 32):
            out[f"metadata_{tasks}"] = await rate_async(lambda: fs.metadata(FILE), tasks, secs)
        await fs.remove_file(FILE)
    return out


def ours_sync(target: str, mib: int, secs: float, reads: int) -> Result:
    out: Result = {}
    with ninefold.connect_sync(target) as fs:
        data = b"\x07" * (mib << 20)
        t = time.perf_counter()
        fs.write(FILE, data)
        out["write_mib_s"] = timed(mib, t)
        out["read_mib_s"] = read_speed_sync(
            mib, reads, lambda: fs.read(FILE), functools.partial(operator.eq, data)
        )
        buf = bytearray(len(data))
        out["reused_mib_s"] = read_speed_sync(
            mib,
            reads,
            functools.partial(open_read_into_sync, fs, buf),
            functools.partial(filled, buf, data),
        )
        del buf, data
        for threads in (1, 32):
            out[f"metadata_{threads}"] = rate_sync(lambda: fs.metadata(FILE), threads, secs)
        fs.remove_file(FILE)
    return out


#: The official wheel's `write` costs about a second per MiB here (its
#: bindings hand the payload over byte by byte), so it writes this much; its
#: `read` reads the full-size file, written by ninefold beforehand.
OFFICIAL_WRITE_MIB = 8


def put_file(target: str, mib: int) -> bytes:
    """Writes the file the official wheel's read row reads (untimed)."""
    data = b"\x07" * (mib << 20)
    with ninefold.connect_sync(target) as fs:
        fs.write(FILE, data)
    return data


def official() -> Any:
    """The official wheel's module (``zerofs_client``), untyped here."""
    return importlib.import_module("zerofs_client")


async def official_async(target: str, mib: int, secs: float, reads: int) -> Result:
    z = official()
    out: Result = {}
    fs = await z.Client.connect(target)
    try:
        wmib = min(mib, OFFICIAL_WRITE_MIB)
        t = time.perf_counter()
        await fs.write(FILE, b"\x07" * (wmib << 20))
        out["write_mib_s"] = timed(wmib, t)
        data = put_file(target, mib)
        out["read_mib_s"] = await read_speed_async(
            mib, reads, lambda: fs.read(FILE), functools.partial(operator.eq, data)
        )
        del data
        for tasks in (1, 32):
            out[f"metadata_{tasks}"] = await rate_async(lambda: fs.metadata(FILE), tasks, secs)
        await fs.remove_file(FILE)
    finally:
        await fs.close()
    return out


def official_sync(target: str, mib: int, secs: float, reads: int) -> Result:
    z = official()
    out: Result = {}
    with z.connect_sync(target) as fs:
        wmib = min(mib, OFFICIAL_WRITE_MIB)
        t = time.perf_counter()
        fs.write(FILE, b"\x07" * (wmib << 20))
        out["write_mib_s"] = timed(wmib, t)
        data = put_file(target, mib)
        out["read_mib_s"] = read_speed_sync(
            mib, reads, lambda: fs.read(FILE), functools.partial(operator.eq, data)
        )
        del data
        for threads in (1, 32):
            out[f"metadata_{threads}"] = rate_sync(lambda: fs.metadata(FILE), threads, secs)
        fs.remove_file(FILE)
    return out


#: glibc's tunable that puts the blocks ``malloc`` maps on transparent huge
#: pages (glibc >= 2.35). The binding advises its large ``bytes`` onto
#: huge pages itself (``src/uninit_bytes.rs``); the Rust client's
#: ``Vec`` gets them only this way, so the ``rust thp`` column is the
#: like-for-like reference for that choice.
THP_TUNABLE = "glibc.malloc.hugetlb=1"


def glibc_has_thp_tunable() -> bool:
    """Whether this process's C library is glibc 2.35 or newer."""
    try:
        name, version = (os.confstr("CS_GNU_LIBC_VERSION") or "").split()
    except (ValueError, OSError):
        return False
    major, minor = (int(x) for x in version.split(".")[:2])
    return name == "glibc" and (major, minor) >= (2, 35)


def rust_thp(target: str, mib: int, secs: float, reads: int) -> Result:
    """The Rust client with ``malloc`` on huge pages (see THP_TUNABLE)."""
    return rust(target, mib, secs, reads, {"GLIBC_TUNABLES": THP_TUNABLE})


def rust(
    target: str, mib: int, secs: float, reads: int, env: dict[str, str] | None = None
) -> Result:
    exe = REPO / "target" / "release" / "examples" / "bench_rust"
    if not exe.exists():
        subprocess.run(
            [
                "cargo",
                "build",
                "--release",
                "-q",
                "-p",
                "ninefold-python",
                "--example",
                "bench_rust",
            ],
            cwd=REPO,
            check=True,
            env={**os.environ, "CARGO_INCREMENTAL": "0"},
        )
    argv = [str(exe), target, str(mib), str(secs), str(reads)]
    res = subprocess.run(
        argv, check=True, capture_output=True, text=True, env={**os.environ, **(env or {})}
    )
    parsed: Result = json.loads(res.stdout)
    return parsed


OURS = ("ours async", "ours sync")

ROWS = [
    ("write (MiB/s)", "write_mib_s"),
    ("read, fresh buffer (MiB/s)", "read_mib_s"),
    ("read_into, fresh (MiB/s)", "read_into_mib_s"),
    ("read_into, reused (MiB/s)", "reused_mib_s"),
    ("metadata, 1 task (ops/s)", "metadata_1"),
    ("metadata, 32 tasks (ops/s)", "metadata_32"),
]

#: Ratios against the Rust client: (label, our row, Rust's row). Each
#: Python `read` returns a fresh `bytes`, so it is set against Rust reads
#: into fresh buffers (`Client::read`, and `File::read_into` into a new
#: `Vec`, the way the binding reads); Python's `File.read_into` into one
#: `bytearray` kept across reads is set against Rust's `File::read_into`
#: into one `Vec` kept across reads.
VS_RUST = [
    ("write / Client::write", "write_mib_s", "write_mib_s"),
    ("read / Client::read", "read_mib_s", "read_mib_s"),
    ("read / File::read_into fresh", "read_mib_s", "read_into_mib_s"),
    ("read_into / read_into reused", "reused_mib_s", "reused_mib_s"),
    ("metadata, 1 task", "metadata_1", "metadata_1"),
    ("metadata, 32 tasks", "metadata_32", "metadata_32"),
]


def fmt(v: float | None, width: int, digits: int = 0) -> str:
    return f"{'-':>{width}}" if v is None else f"{v:{width}.{digits}f}"


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--mib", type=int, default=256)
    ap.add_argument("--secs", type=float, default=3.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument(
        "--reads", type=int, default=3, help="reads per round of each read row (their median)"
    )
    ap.add_argument("--bin", default=str(REPO / "target" / "release" / "ninefold"))
    ap.add_argument(
        "--no-official", action="store_true", help="leave out the official zerofs-client wheel"
    )
    ap.add_argument(
        "--no-rust-thp",
        action="store_true",
        help="leave out the Rust client run with malloc on huge pages",
    )
    a = ap.parse_args()
    columns: dict[str, Callable[[str, int, float, int], Result]] = {"rust": rust}
    thp = ""
    if not a.no_rust_thp:
        if glibc_has_thp_tunable():
            columns["rust thp"] = rust_thp
        else:
            thp = "rust thp column left out: needs glibc >= 2.35"
    columns["ours async"] = lambda t, m, s, n: asyncio.run(ours_async(t, m, s, n))
    columns["ours sync"] = ours_sync
    zver = ""
    if not a.no_official:
        try:
            zver = importlib.metadata.version("zerofs-client")
        except importlib.metadata.PackageNotFoundError:
            sys.exit("zerofs-client is not installed (pip install zerofs-client, or --no-official)")
        columns["official async"] = lambda t, m, s, n: asyncio.run(official_async(t, m, s, n))
        columns["official sync"] = official_sync
    names = list(columns)
    runs: dict[str, list[Result]] = {n: [] for n in names}
    load = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory() as tmp:
        proc, target = start_server(a.bin, Path(tmp) / "serve.log")
        try:
            for r in range(a.rounds):
                for n in names[r % len(names) :] + names[: r % len(names)]:
                    runs[n].append(columns[n](target, a.mib, a.secs, a.reads))
                load.append(os.getloadavg()[0])
        finally:
            proc.terminate()
            proc.wait()
    med: dict[str, dict[str, float | None]] = {
        n: {
            key: (statistics.median(v) if (v := [r[key] for r in runs[n] if key in r]) else None)
            for _, key in ROWS
        }
        for n in names
    }
    print(
        f"ninefold {ninefold.__version__} ({Path(ninefold.__file__).parent}), serve --memory "
        f"(9P2000.L.Z), {a.mib} MiB, {a.secs:g} s per metadata row, {a.reads} reads per "
        f"round for each read row, median of {a.rounds} rounds, "
        f"load average {min(load):.1f}-{max(load):.1f} on {os.cpu_count()} CPUs"
    )
    if "rust thp" in columns:
        print(f"rust thp: the Rust client with GLIBC_TUNABLES={THP_TUNABLE}")
    elif thp:
        print(thp)
    if not a.no_official:
        print(
            f"official wheel: zerofs-client {zver}; its write row writes "
            f"{min(a.mib, OFFICIAL_WRITE_MIB)} MiB (see OFFICIAL_WRITE_MIB)"
        )
    head = f"{'row':32}" + "".join(f"{n:>15}" for n in names)
    print(head)
    for label, key in ROWS:
        print(f"{label:32}" + "".join(fmt(med[n][key], 15) for n in names))
    print()
    for ref in [n for n in ("rust", "rust thp") if n in med]:
        heads = (f"ours async / {ref}", f"ours sync / {ref}")
        print(f"{'vs the ' + ref + ' column':32}" + "".join(f"{h:>22}" for h in heads))
        for label, ours, theirs in VS_RUST:
            print(
                f"{label:32}"
                + "".join(fmt(ratio(med[x][ours], med[ref][theirs]), 22, 2) for x in OURS)
            )
        print()
    if not a.no_official:
        print(f"{'vs the official wheel':32}{'async / async':>20}{'sync / sync':>20}")
        for label, key in ROWS:
            pairs = [("ours async", "official async"), ("ours sync", "official sync")]
            vals = [ratio(med[x][key], med[y][key]) for x, y in pairs]
            if any(v is not None for v in vals):
                print(f"{label:32}" + "".join(fmt(v, 20, 2) for v in vals))
        print()
    print("every round (MiB/s or ops/s):")
    for n in names:
        for i, res in enumerate(runs[n]):
            print(f"  {n:15} round {i + 1}: " + ", ".join(f"{k} {v:.0f}" for k, v in res.items()))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
