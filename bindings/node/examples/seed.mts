// The seed's TypeScript example, as written, with `zerofs-client` replaced
// by `ninefold` and the target taken from the command line.
//   npx tsc -p . && node build/examples/seed.mjs unix:/run/ninefold/9p.sock
import { Client, openOptions, isFile } from "ninefold";

const target = process.argv[2] ?? "unix:/run/zerofs/9p.sock";

await using fs = await Client.connect(target);
await fs.createDirAll("/demo", 0o755);
await fs.write("/demo/notes.txt", new TextEncoder().encode("hello from zerofs"));
const data = await fs.read("/demo/notes.txt");
const meta = await fs.metadata("/demo/notes.txt");
console.log(data.length, meta.size, isFile(meta));
// A File handle for positioned I/O.
await using f = await fs.open("/demo/data.bin", openOptions({ write: true, create: true }));
await f.writeAt(0n, new Uint8Array(4096));
await f.syncAll();
// Stream the directory entry by entry.
await using dir = await fs.openDir("/demo");
for await (const entry of dir) console.log(entry.name);
await fs.rename("/demo/notes.txt", "/demo/notes.md");
await fs.removeFile("/demo/notes.md");
await fs.removeDirAll("/demo");
