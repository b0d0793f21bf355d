// Resource behaviour checked on the server side (ninefold serve's
// Prometheus metrics): `await using` releases every fid, an AbortSignal
// flushes the request and releases its fid, and the Web Streams hold
// memory bounded under a slow consumer or a slow sink.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { AbortError, Client, NodeKind, openOptions } from "ninefold";
import { eventually, metric, startNinefold, type Server } from "./servers.mjs";

const fids = (s: Server) => metric(s, "ninefold_server_fid_count");
const active = (s: Server) => metric(s, "ninefold_server_active_requests");
/** Rflush replies the server sent (its writer's trace lines). */
const flushes = (s: Server) => (s.log().match(/ Rflush/g) ?? []).length;

describe("server-side resource checks (ninefold serve, passthrough)", () => {
  let server: Server;
  before(async () => {
    // The writer's trace lines name every reply sent (Rflush, Rclunk).
    server = await startNinefold("passthrough", "warn,ninefold_server::shell::writer=trace,ninefold_server::shell::encode=trace");
  });
  after(async () => {
    await server?.stop();
  });

  test("await using releases every fid, and the client's own at dispose", async () => {
    assert.equal(await fids(server), 0);
    {
      await using fs = await Client.connect(server.target);
      const base = await fids(server); // the attach fid
      assert.ok(base >= 1);
      await fs.createDirAll("/u/sub", 0o755);
      for (let round = 0; round < 50; round++) {
        await using f = await fs.open("/u/f", openOptions({ write: true, create: true }));
        await using d = await fs.openDir("/u");
        await using s = await d.open_dir_at("sub");
        await f.writeAt(BigInt(round), new Uint8Array([round]));
        for await (const e of d) assert.ok(e.name);
        assert.ok((await s.metadata()).is_dir());
        assert.ok((await fids(server)) > base);
      }
      await eventually(async () => (await fids(server)) === base);
      // A handle that throws inside its scope is disposed too.
      await assert.rejects(
        (async () => {
          await using f = await fs.open("/u/f");
          await f.read_at(0n, 1);
          throw new Error("boom");
        })(),
        /boom/,
      );
      await eventually(async () => (await fids(server)) === base);
    }
    // The client is disposed: its connection (and attach fid) goes once
    // every handle is gone.
    await eventually(async () => (await fids(server)) === 0);
  });

  test("AbortSignal: a read blocked on a FIFO is flushed and its fid released", async () => {
    await using fs = await Client.connect(server.target);
    const base = await fids(server);
    await fs.mknod("/fifo", NodeKind.Fifo, 0o644);
    const flushBefore = flushes(server);
    const logBefore = server.log().length;
    const ac = new AbortController();
    const started = Date.now();
    // The server opens the FIFO at once (non-blocking) and the read waits
    // for a writer that never comes.
    const p = fs.read("/fifo", { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 300));
    ac.abort(new Error("user gave up"));
    const err = await p.then(
      () => assert.fail("the read should have been aborted"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof AbortError, String(err));
    assert.equal(err.name, "AbortError");
    assert.equal(err.code, "ABORT_ERR");
    assert.equal((err.cause as Error).message, "user gave up");
    assert.ok(Date.now() - started < 5000);
    // Server side: a Tflush for the waiting Tread arrived and was answered,
    // and the fid the aborted call had opened is clunked after it.
    await eventually(async () => flushes(server) > flushBefore);
    await eventually(async () => /Rlopen[\s\S]*Rflush[\s\S]*Rclunk/.test(server.log().slice(logBefore)));
    await eventually(async () => (await fids(server)) === base && (await active(server)) === 0, 10000);
    // The session still works.
    await fs.write("/after", "ok");
    assert.equal((await fs.read("/after")).toString(), "ok");
    await fs.remove_file("/fifo");
  });

  test("AbortSignal: already aborted rejects at once; timeouts work", async () => {
    await using fs = await Client.connect(server.target);
    const flushBefore = flushes(server);
    await assert.rejects(fs.stat("/", { signal: AbortSignal.abort() }), AbortError);
    await fs.mknod("/fifo2", NodeKind.Fifo, 0o644);
    await using d = await fs.openDir("/");
    {
      await using f = await d.open_at("fifo2", openOptions({ read: true }));
      await assert.rejects(f.read_at(0n, 10, { signal: AbortSignal.timeout(200) }), {
        name: "AbortError",
      });
    }
    await eventually(async () => flushes(server) > flushBefore);
    await eventually(async () => (await active(server)) === 0);
    // A signal that never fires changes nothing.
    const ac = new AbortController();
    assert.ok((await fs.stat("/", { signal: ac.signal })).is_dir());
    await fs.remove_file("/fifo2");
  });

  test("readable(): a slow consumer does not make the stream read ahead", async () => {
    await using fs = await Client.connect(server.target);
    const chunk = 1 << 20;
    {
      await using f = await fs.create("/big");
      await f.write_at(0n, new Uint8Array(64 * chunk).fill(7));
    }
    await using f = await fs.open("/big");
    let reads = 0;
    const orig = f.read_at.bind(f);
    f.read_at = (offset, len, opts) => {
      reads++;
      return orig(offset, len, opts);
    };
    const rs = f.readable({ chunkSize: chunk, highWaterMark: 2 });
    const reader = rs.getReader();
    for (let i = 0; i < 3; i++) assert.equal((await reader.read()).value?.length, chunk);
    const mem0 = process.memoryUsage().arrayBuffers;
    await new Promise((r) => setTimeout(r, 500)); // the consumer stalls
    // 3 consumed + at most highWaterMark queued + one in flight.
    assert.ok(reads <= 6, `read ahead ${reads} chunks`);
    assert.ok(process.memoryUsage().arrayBuffers - mem0 < 8 * chunk);
    let total = 3 * chunk;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      total += value.length;
    }
    assert.equal(total, 64 * chunk);
    assert.ok(reads <= 66);
    // By default a chunk is what one Tread carries (the session's
    // max_read_chunk), not a round 1 MiB that would need two.
    const r2 = f.readable().getReader();
    assert.equal((await r2.read()).value?.length, fs.capabilities().max_read_chunk);
    await r2.cancel();
  });

  test("writable(): a slow sink holds the producer back", async () => {
    await using fs = await Client.connect(server.target);
    await using f = await fs.create("/w");
    const chunk = 256 << 10;
    let inFlight = 0;
    let maxInFlight = 0;
    const orig = f.write_at.bind(f);
    f.write_at = async (offset, data, opts) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      try {
        return await orig(offset, data, opts);
      } finally {
        inFlight--;
      }
    };
    let produced = 0;
    let written = 0;
    let maxAhead = 0;
    const total = 64;
    const source = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          if (produced === total) {
            controller.close();
            return;
          }
          produced++;
          maxAhead = Math.max(maxAhead, produced - written);
          controller.enqueue(new Uint8Array(chunk).fill(produced & 0xff));
        },
      },
      new CountQueuingStrategy({ highWaterMark: 1 }),
    );
    const counting = new TransformStream<Uint8Array, Uint8Array>({
      transform(c, ctl) {
        ctl.enqueue(c);
      },
    });
    const sink = f.writable({ highWaterMark: 4 * chunk });
    const origWrite = f.write_at;
    f.write_at = async (o, d, opts) => {
      await origWrite(o, d, opts);
      written++;
    };
    await source.pipeThrough(counting).pipeTo(sink);
    assert.equal(maxInFlight, 1);
    // The writable's 4-chunk queue, the pipes' small buffers, one in flight.
    assert.ok(maxAhead <= 12, `producer ran ${maxAhead} chunks ahead`);
    assert.equal((await f.metadata()).size, BigInt(total * chunk));
    const back = await f.read_at(BigInt(5 * chunk), 1);
    assert.equal(back[0], 6);
  });
});
