// The Node side of the Node-vs-Rust client benchmark (bench/run.sh runs
// both against one `ninefold serve` and prints the median ratios).
//   node bench/bench.mjs TARGET [--mib 256] [--secs 3] [--reps 3]
// The rows do the same work as examples/bench_baseline.rs (see there):
// write = open + write_at of an existing buffer (no copy), read = the
// whole file as a new Buffer, read_into = the whole file into one existing
// Buffer, metadata xN = N loops of metadata(); cpu_* = the process CPU
// time per MiB / per call, from /proc/self/stat as on the Rust side. `handoff` (Node
// only) is the round trip of a native call that does no I/O (close() of a
// closed file): what napi adds to every call.
// Prints one JSON object: per row, the list of --reps results.
import { readFileSync } from "node:fs";
import { Client } from "../index.mjs";

const args = process.argv.slice(2);
const target = args[0];
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const mib = opt("--mib", 256);
const secs = opt("--secs", 3);
const reps = Math.max(1, opt("--reps", 3));
if (!target) {
  console.error("usage: bench.mjs TARGET [--mib N] [--secs S] [--reps R]");
  process.exit(2);
}

/** CPU time of this process so far, in microseconds (utime + stime). */
function cpuUs() {
  const f = readFileSync("/proc/self/stat", "utf8").split(")").pop().trim().split(/\s+/);
  return (Number(f[11]) + Number(f[12])) * 10_000; // USER_HZ is 100
}

const fs = await Client.connect(target);
const data = Buffer.alloc(mib << 20);
for (let i = 0; i < data.length; i++) data[i] = i % 251;
const into = Buffer.alloc(data.length);
await fs.createDirAll("/meta", 0o755);
await fs.write("/meta/target", "x");

const mibps = (t) => mib / ((performance.now() - t) / 1000);
const cpuMib = (c0) => (cpuUs() - c0) / mib;

async function metadata(tasks) {
  const deadline = performance.now() + secs * 1000;
  const start = performance.now();
  const cpu0 = cpuUs();
  let n = 0;
  await Promise.all(
    Array.from({ length: tasks }, async () => {
      while (performance.now() < deadline) {
        await fs.metadata("/meta/target");
        n++;
      }
    }),
  );
  return [n / ((performance.now() - start) / 1000), (cpuUs() - cpu0) / n];
}

/** Microseconds per native call that does no I/O. */
async function handoff() {
  const f = await fs.open("/meta/target");
  await f.close();
  const n = 20000;
  const t = performance.now();
  for (let i = 0; i < n; i++) await f.close();
  return ((performance.now() - t) * 1000) / n;
}

const out = { write: [], read: [], read_into: [], meta1: [], meta32: [], cpu1: [], cpu32: [], cpu_write: [], cpu_read: [], cpu_read_into: [], handoff: [] };
for (let r = 0; r < reps; r++) {
  let t = performance.now();
  let c0 = cpuUs();
  {
    const f = await fs.open("/bench.bin", { write: true, create: true, truncate: true });
    await f.writeAt(0n, data);
    out.write.push(mibps(t));
    out.cpu_write.push(cpuMib(c0));
    await f.close();
  }

  t = performance.now();
  c0 = cpuUs();
  let back = await fs.read("/bench.bin");
  out.read.push(mibps(t));
  out.cpu_read.push(cpuMib(c0));
  if (back.length !== data.length) throw new Error(`short read ${back.length}`);
  back = undefined;
  // Rust frees its buffer at drop, before the next row; free this one now
  // too (run.sh passes --expose-gc), not in the middle of the next row.
  globalThis.gc?.();
  // The addon's finalizer (which unmaps the 256 MiB) runs from the event
  // loop after the collection: let it run before the next row's clock.
  await new Promise((r) => setTimeout(r, 100));

  t = performance.now();
  c0 = cpuUs();
  {
    const f = await fs.open("/bench.bin", { read: true });
    const n = await f.readInto(0n, into);
    out.read_into.push(mibps(t));
    out.cpu_read_into.push(cpuMib(c0));
    if (n !== into.length) throw new Error(`short read_into ${n}`);
    await f.close();
  }
  if (!into.equals(data)) throw new Error("read_into returned other bytes");

  for (const [tasks, ops, cpu] of [[1, out.meta1, out.cpu1], [32, out.meta32, out.cpu32]]) {
    const [o, c] = await metadata(tasks);
    ops.push(o);
    cpu.push(c);
  }
  out.handoff.push(await handoff());
}
await fs.removeFile("/bench.bin");
await fs.close();
const round = (v) => v.map((x) => Math.round(x * 10) / 10);
console.log(JSON.stringify(Object.fromEntries(Object.entries(out).map(([k, v]) => [k, round(v)]))));
