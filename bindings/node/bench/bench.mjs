// The Node side of the Node-vs-Rust client benchmark (bench/run.sh runs
// both against one `ninefold serve` and prints the ratios).
//   node bench/bench.mjs TARGET [--mib 256] [--secs 3]
// Prints one JSON object: write/read MiB/s, metadata x1/x32 stat/s.
import { Client } from "../index.mjs";

const args = process.argv.slice(2);
const target = args[0];
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const mib = opt("--mib", 256);
const secs = opt("--secs", 3);
if (!target) {
  console.error("usage: bench.mjs TARGET [--mib N] [--secs S]");
  process.exit(2);
}

const fs = await Client.connect(target);
const data = Buffer.alloc(mib << 20);
for (let i = 0; i < data.length; i++) data[i] = i % 251;
await fs.createDirAll("/meta", 0o755);
await fs.write("/meta/target", "x");

const mibps = (bytes, t) => bytes / (1 << 20) / ((performance.now() - t) / 1000);

let t = performance.now();
await fs.write("/bench.bin", data);
const write = mibps(data.length, t);

t = performance.now();
const back = await fs.read("/bench.bin");
const read = mibps(back.length, t);
if (back.length !== data.length) throw new Error(`short read ${back.length}`);

async function metadata(tasks) {
  const deadline = performance.now() + secs * 1000;
  const start = performance.now();
  let n = 0;
  await Promise.all(
    Array.from({ length: tasks }, async () => {
      while (performance.now() < deadline) {
        await fs.metadata("/meta/target");
        n++;
      }
    }),
  );
  return n / ((performance.now() - start) / 1000);
}
const meta1 = await metadata(1);
const meta32 = await metadata(32);
await fs.removeFile("/bench.bin");
await fs.close();
console.log(JSON.stringify({ write, read, meta1, meta32 }));
