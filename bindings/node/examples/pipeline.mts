// Copy a local file onto the 9P server and back through Web Streams and
// node:stream's pipeline (Readable.fromWeb / Writable.fromWeb), with
// backpressure end to end.
//   node build/examples/pipeline.mjs TARGET LOCAL_IN REMOTE_PATH LOCAL_OUT
import { createReadStream, createWriteStream } from "node:fs";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadable, WritableStream as WebWritable } from "node:stream/web";
import { Client } from "ninefold";

const [target, localIn, remote, localOut] = process.argv.slice(2);
if (!target || !localIn || !remote || !localOut) {
  console.error("usage: pipeline.mjs TARGET LOCAL_IN REMOTE_PATH LOCAL_OUT");
  process.exit(2);
}

await using fs = await Client.connect(target);

// Upload: local file -> file.writable().
{
  await using f = await fs.create(remote);
  await pipeline(createReadStream(localIn), Writable.fromWeb(f.writable() as WebWritable));
  await f.syncAll();
}

// Download: file.readable() -> local file.
{
  await using f = await fs.open(remote, { read: true });
  await pipeline(Readable.fromWeb(f.readable() as WebReadable<Uint8Array>), createWriteStream(localOut));
}

const meta = await fs.metadata(remote);
console.log(`copied ${meta.size} bytes through ${remote}`);
