"""The Python column of the Node-vs-Rust client benchmark (bench/run.sh
--python PY runs it beside bench.mjs and examples/bench_baseline.rs).

    PY bench/bench.py TARGET [--mib 256] [--secs 2] [--reps 3]

The same rows through the asyncio API of the `ninefold` Python package:
write = open + write_at of an existing buffer, read = the whole file,
metadata xN = N asyncio tasks calling metadata(); cpu_* = the process CPU
time per MiB / per call. There is no read_into in the Python API, so that row is
left empty. Prints one JSON object: per row, the list of --reps results.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import ninefold


def cpu_us() -> float:
    """CPU time of this process so far, in microseconds (as the other columns)."""
    with open("/proc/self/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 10_000.0


async def metadata(fs: ninefold.Client, tasks: int, secs: float) -> tuple[float, float]:
    deadline = time.perf_counter() + secs

    async def loop() -> int:
        n = 0
        while time.perf_counter() < deadline:
            await fs.metadata("/meta/target")
            n += 1
        return n

    t, cpu0 = time.perf_counter(), cpu_us()
    n = sum(await asyncio.gather(*(loop() for _ in range(tasks))))
    return n / (time.perf_counter() - t), (cpu_us() - cpu0) / max(n, 1)


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("target")
    ap.add_argument("--mib", type=int, default=256)
    ap.add_argument("--secs", type=float, default=2)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    keys = ("write", "read", "meta1", "meta32", "cpu1", "cpu32", "cpu_write", "cpu_read")
    out: dict[str, list[float]] = {k: [] for k in keys}
    fs = await ninefold.Client.connect(a.target)
    data = bytes(i % 251 for i in range(251)) * ((a.mib << 20) // 251 + 1)
    data = data[: a.mib << 20]
    await fs.create_dir_all("/meta", 0o755)
    await fs.write("/meta/target", b"x")
    for _ in range(max(1, a.reps)):
        t, c0 = time.perf_counter(), cpu_us()
        f = await fs.open("/bench.bin", ninefold.OpenOptions(write=True, create=True, truncate=True))
        await f.write_at(0, data)
        out["write"].append(a.mib / (time.perf_counter() - t))
        out["cpu_write"].append((cpu_us() - c0) / a.mib)
        await f.close()
        t, c0 = time.perf_counter(), cpu_us()
        back = await fs.read("/bench.bin")
        out["read"].append(a.mib / (time.perf_counter() - t))
        out["cpu_read"].append((cpu_us() - c0) / a.mib)
        assert len(back) == len(data), "short read"
        del back
        for tasks, ops, cpu in ((1, "meta1", "cpu1"), (32, "meta32", "cpu32")):
            o, c = await metadata(fs, tasks, a.secs)
            out[ops].append(o)
            out[cpu].append(c)
    await fs.remove_file("/bench.bin")
    await fs.close()
    print(json.dumps({k: [round(x, 1) for x in v] for k, v in out.items()}))


asyncio.run(main())
