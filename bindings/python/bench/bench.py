"""Python client against the Rust client, on one ``ninefold serve`` in one run.

Rows: ``write`` and ``read`` of a whole file (MiB/s, default 256 MiB) and
``metadata`` calls/s from 1 and 32 concurrent tasks, for the asyncio API, the
blocking API (32 threads for the concurrent row) and the Rust client
(``examples/bench_rust.rs``). The ratio is Python / Rust. Each round runs
Rust, then asyncio, then blocking, against the same server; the table shows
the median of the rounds, so load on a shared machine hits every column alike.

    python bench/bench.py [--mib 256] [--secs 3] [--rounds 3] [--bin target/release/ninefold]

The comparison with the official ``zerofs-client`` wheel is not here: that
wheel speaks only ``9P2000.L.Z``, which ``ninefold serve`` does not speak yet.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import ninefold

REPO = Path(__file__).resolve().parents[3]


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


async def python_async(target: str, mib: int, secs: float) -> dict[str, float]:
    out: dict[str, float] = {}
    async with await ninefold.Client.connect(target) as fs:
        data = b"\x07" * (mib << 20)
        t = time.perf_counter()
        await fs.write("/bench.bin", data)
        out["write_mib_s"] = mib / (time.perf_counter() - t)
        t = time.perf_counter()
        back = await fs.read("/bench.bin")
        out["read_mib_s"] = mib / (time.perf_counter() - t)
        assert len(back) == len(data)
        del back, data
        for tasks in (1, 32):
            deadline = time.perf_counter() + secs

            async def loop(deadline: float = deadline) -> int:
                n = 0
                while time.perf_counter() < deadline:
                    await fs.metadata("/bench.bin")
                    n += 1
                return n

            t = time.perf_counter()
            counts = await asyncio.gather(*(loop() for _ in range(tasks)))
            out[f"metadata_{tasks}"] = sum(counts) / (time.perf_counter() - t)
        await fs.remove_file("/bench.bin")
    return out


def python_sync(target: str, mib: int, secs: float) -> dict[str, float]:
    out: dict[str, float] = {}
    with ninefold.connect_sync(target) as fs:
        data = b"\x07" * (mib << 20)
        t = time.perf_counter()
        fs.write("/bench.bin", data)
        out["write_mib_s"] = mib / (time.perf_counter() - t)
        t = time.perf_counter()
        back = fs.read("/bench.bin")
        out["read_mib_s"] = mib / (time.perf_counter() - t)
        assert len(back) == len(data)
        del back, data
        for threads in (1, 32):
            deadline = time.perf_counter() + secs
            counts = [0] * threads

            def loop(i: int, deadline: float = deadline, counts: list[int] = counts) -> None:
                while time.perf_counter() < deadline:
                    fs.metadata("/bench.bin")
                    counts[i] += 1

            t = time.perf_counter()
            ts = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
            for th in ts:
                th.start()
            for th in ts:
                th.join()
            out[f"metadata_{threads}"] = sum(counts) / (time.perf_counter() - t)
        fs.remove_file("/bench.bin")
    return out


def rust(target: str, mib: int, secs: float) -> dict[str, float]:
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
        )
    res = subprocess.run(
        [str(exe), target, str(mib), str(secs)], check=True, capture_output=True, text=True
    )
    parsed: dict[str, float] = json.loads(res.stdout)
    return parsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--mib", type=int, default=256)
    ap.add_argument("--secs", type=float, default=3.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--bin", default=str(REPO / "target" / "release" / "ninefold"))
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, target = start_server(a.bin, Path(tmp) / "serve.log")
        runs: list[tuple[dict[str, float], dict[str, float], dict[str, float]]] = []
        try:
            for _ in range(a.rounds):
                runs.append(
                    (
                        rust(target, a.mib, a.secs),
                        asyncio.run(python_async(target, a.mib, a.secs)),
                        python_sync(target, a.mib, a.secs),
                    )
                )
        finally:
            proc.terminate()
            proc.wait()
    rows = [
        ("write (MiB/s)", "write_mib_s"),
        ("read (MiB/s)", "read_mib_s"),
        ("metadata, 1 task (ops/s)", "metadata_1"),
        ("metadata, 32 tasks (ops/s)", "metadata_32"),
    ]
    r, pa, ps = (
        {k: statistics.median(run[i][k] for run in runs) for k in runs[0][i]} for i in range(3)
    )
    print(
        f"ninefold {ninefold.__version__} ({Path(ninefold.__file__).parent}), serve --memory, "
        f"{a.mib} MiB, {a.secs:g} s per metadata row, median of {a.rounds} rounds"
    )
    print(f"{'row':28} {'rust':>10} {'py async':>10} {'ratio':>6} {'py sync':>10} {'ratio':>6}")
    for label, key in rows:
        print(
            f"{label:28} {r[key]:10.0f} {pa[key]:10.0f} {pa[key] / r[key]:6.2f} "
            f"{ps[key]:10.0f} {ps[key] / r[key]:6.2f}"
        )
    print("zerofs-client wheel: not compared (it speaks only 9P2000.L.Z; serve does not yet)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
