// Every Client / File / Dir operation of the seed's tables, error codes,
// non-UTF-8 names and the fs/promises adapter, against each backend.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  Client,
  Dir,
  File,
  Metadata,
  NinefoldError,
  NinefoldErrorAlreadyExists,
  NinefoldErrorClosed,
  NinefoldErrorConnectFailed,
  NinefoldErrorDirectoryNotEmpty,
  NinefoldErrorInvalidArgument,
  NinefoldErrorIsADirectory,
  NinefoldErrorNameTooLong,
  NinefoldErrorNotADirectory,
  NinefoldErrorNotFound,
  NinefoldErrorTooManySymlinks,
  NodeKind,
  SetTime,
  createFs,
  isDir,
  isFile,
  isSymlink,
  openOptions,
} from "ninefold";
import { backends, connect } from "./backends.mjs";
import type { Server } from "./servers.mjs";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

async function rejects(p: Promise<unknown>, cls: Function, code: string, syscall?: string): Promise<NinefoldError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
    assert.ok(e instanceof NinefoldError);
    const err = e as NinefoldError;
    assert.equal(err.code, code);
    assert.ok(err.errno < 0);
    if (syscall) assert.equal(err.syscall, syscall);
    return err;
  }
  assert.fail(`expected ${cls.name}`);
}

for (const backend of backends) {
  describe(backend.name, () => {
    let server: Server;
    let fs: Client;
    let n = 0;
    const fresh = () => `/t${n++}`;

    before(async () => {
      server = await backend.start();
      fs = await connect(server);
    });
    after(async () => {
      await fs?.close();
      await server?.stop();
    });

    test("capabilities, statfs, sync", async () => {
      const caps = fs.capabilities();
      assert.ok(caps.msize > 0 && caps.maxReadChunk > 0 && caps.max_write_chunk > 0);
      assert.equal(typeof caps.extensions_v1, "boolean");
      // ours speaks ZeroFS's dialect, which the client offers first; diod plain 9P2000.L
      const z = backend.name !== "diod";
      assert.equal(caps.dialect, z ? "9P2000.L.Z" : "9P2000.L");
      assert.equal(caps.extensions_v1, z);
      assert.equal(caps.max_read_chunk, z ? caps.msize - 11 : caps.msize - 24);
      const st = await fs.statfs();
      assert.ok(st.block_size > 0);
      assert.equal(st.blockSize, st.block_size);
      assert.equal(typeof st.blocks, "bigint");
      assert.ok(st.max_name_len >= 255);
      await fs.sync();
    });

    test("read, write, read_range, append, exists, truncate", async () => {
      const d = fresh();
      await fs.createDir(d, 0o755);
      const p = `${d}/a.txt`;
      assert.equal(await fs.exists(p), false);
      await fs.write(p, enc("hello world"));
      assert.equal(await fs.exists(p), true);
      const all = await fs.read(p);
      assert.ok(all instanceof Uint8Array && Buffer.isBuffer(all));
      assert.equal(dec(all), "hello world");
      assert.equal(dec(await fs.read_range(p, 6n, 5)), "world");
      assert.equal(dec(await fs.readRange(p, 6, 100)), "world"); // short = EOF, number offsets accepted
      assert.equal(await fs.append(p, "!!"), 11n);
      assert.equal(dec(await fs.read(p)), "hello world!!");
      const m = await fs.truncate(p, 5n);
      assert.equal(m.size, 5n);
      assert.equal(dec(await fs.read(p)), "hello");
      await fs.write(p, Buffer.from("buffer payload"));
      assert.equal(dec(await fs.read(p)), "buffer payload");
      // A larger payload crosses several msize chunks both ways.
      const big = new Uint8Array(5 * 1024 * 1024 + 123).map((_, i) => (i * 7) & 0xff);
      await fs.write(`${d}/big`, big);
      assert.deepEqual(new Uint8Array(await fs.read(`${d}/big`)), big);
      // read_into: several pipelined chunks straight into a view of a
      // larger buffer; only the view's bytes are written, the count says
      // where the file ended.
      const backing = new Uint8Array(big.length + 64).fill(0xee);
      const view = backing.subarray(16, 16 + big.length + 32);
      const bf = await fs.open(`${d}/big`);
      assert.equal(await bf.read_into(0n, view), big.length);
      assert.deepEqual(view.subarray(0, big.length), big);
      assert.ok(backing.subarray(0, 16).every((b) => b === 0xee));
      assert.ok(backing.subarray(16 + big.length).every((b) => b === 0xee));
      const small = Buffer.alloc(10);
      assert.equal(await bf.readInto(BigInt(big.length - 4), small), 4);
      assert.deepEqual(new Uint8Array(small.subarray(0, 4)), big.subarray(big.length - 4));
      assert.equal(await bf.readInto(BigInt(big.length + 100), small), 0);
      assert.equal(await bf.readInto(0n, new Uint8Array(0)), 0);
      await rejects(bf.readInto(0n, "nope" as unknown as Uint8Array), NinefoldErrorInvalidArgument, "EINVAL", "read_into");
      const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer;
      await rejects(bf.readInto(0n, new Uint8Array(new Resizable(8, { maxByteLength: 16 }))), NinefoldErrorInvalidArgument, "EINVAL");
      await bf.close();
    });

    test("stat, metadata, symlink, read_link, canonicalize, hard_link", async () => {
      const d = fresh();
      await fs.create_dir(d, 0o755);
      await fs.write(`${d}/f`, enc("x"));
      const sm = await fs.symlink("f", `${d}/l`);
      assert.ok(isSymlink(sm));
      const st = await fs.stat(`${d}/l`);
      assert.ok(st instanceof Metadata);
      assert.ok(st.is_symlink() && st.isSymlink());
      const m = await fs.metadata(`${d}/l`);
      assert.ok(isFile(m) && m.isFile() && m.is_file());
      assert.equal(m.file_type, "File");
      assert.equal(m.fileType, "File");
      assert.equal(m.size, 1n);
      assert.ok(m.mtime instanceof Date);
      assert.equal(typeof m.mtimeNs, "bigint");
      assert.equal(m.permissions(), m.mode & 0o7777);
      assert.equal(dec(await fs.read_link(`${d}/l`)), "f");
      assert.equal(dec(await fs.canonicalize(`${d}/l`)), `${d}/f`);
      const hl = await fs.hard_link(`${d}/f`, `${d}/h`);
      assert.equal(hl.nlink, 2n);
      assert.equal((await fs.stat(`${d}/h`)).ino, m.ino);
    });

    test("set_attr, chmod, chown, set_times", async () => {
      const d = fresh();
      await fs.createDir(d);
      const p = `${d}/f`;
      await fs.write(p, enc("abc"));
      assert.equal((await fs.chmod(p, 0o600)).permissions(), 0o600);
      const me = await fs.stat(p);
      const c = await fs.chown(p, me.uid, undefined);
      assert.equal(c.uid, me.uid);
      const when = new Date("2001-02-03T04:05:06.789Z");
      const t = await fs.set_times(p, when, SetTime.At(when));
      assert.equal(t.mtime.getTime(), when.getTime());
      assert.equal(t.atime.getTime(), when.getTime());
      const now = await fs.setTimes(p, SetTime.Now, undefined);
      assert.ok(now.atime.getTime() > when.getTime());
      const a = await fs.set_attr(p, { mode: 0o640, size: 1, mtime: 1_000_000_000_123_456_789n });
      assert.equal(a.permissions(), 0o640);
      assert.equal(a.size, 1n);
      assert.equal(a.mtime_ns, 1_000_000_000_123_456_789n);
      const none = await fs.setAttr(p, {});
      assert.equal(none.size, 1n);
    });

    test("create_dir_all, read_dir, remove_*, rename", async () => {
      const d = fresh();
      await fs.create_dir_all(`${d}/a/b/c`, 0o755);
      assert.ok(isDir(await fs.stat(`${d}/a/b/c`)));
      await fs.write(`${d}/a/one`, enc("1"));
      const list = await fs.read_dir(`${d}/a`);
      assert.deepEqual(list.map((e) => e.name).sort(), ["b", "one"]);
      const one = list.find((e) => e.name === "one")!;
      assert.equal(one.fileType, "File");
      assert.equal(one.name_is_utf8, true);
      assert.equal(dec(one.nameBytes), "one");
      assert.equal(typeof one.ino, "bigint");
      await fs.rename(`${d}/a/one`, `${d}/a/two`);
      assert.deepEqual((await fs.readDir(`${d}/a`)).map((e) => e.name).sort(), ["b", "two"]);
      await fs.remove_file(`${d}/a/two`);
      await fs.remove_dir(`${d}/a/b/c`);
      await fs.remove_dir_all(d);
      assert.equal(await fs.exists(d), false);
    });

    test("mknod: fifo", async () => {
      const d = fresh();
      await fs.createDir(d);
      const m = await fs.mknod(`${d}/p`, NodeKind.Fifo, 0o644);
      assert.equal(m.file_type, "Fifo");
      const m2 = await fs.mknod(`${d}/q`, "Fifo");
      assert.equal(m2.fileType, "Fifo");
    });

    test("open, create, File operations", async () => {
      const d = fresh();
      await fs.createDir(d);
      const f = await fs.open(`${d}/f`, openOptions({ write: true, read: true, create: true }));
      assert.ok(f instanceof File);
      await f.writeAt(0n, enc("0123456789"));
      await f.write_at(20, enc("tail"));
      assert.equal(dec(await f.read_at(2n, 3)), "234");
      assert.equal((await f.metadata()).size, 24n);
      await f.set_len(4n);
      assert.equal((await f.readAt(0n, 100)).length, 4);
      const a = await f.set_attr({ mode: 0o600 });
      assert.equal(a.permissions(), 0o600);
      await f.sync_all();
      await f.syncData();
      await f.close();
      await f.close(); // idempotent
      await rejects(f.read_at(0n, 1), NinefoldErrorClosed, "EBADF", "read_at");
      const c = await fs.create(`${d}/f`);
      assert.equal((await c.metadata()).size, 0n); // create truncates
      await c.close();
      await rejects(fs.open(`${d}/f`, openOptions({ write: true, create_new: true })), NinefoldErrorAlreadyExists, "EEXIST");
      const ro = await fs.open(`${d}/f`); // read-only by default
      await ro.close();
    });

    test("Dir: cursor, rewind, *_at calls, link_at, rename_at", async () => {
      const d = fresh();
      await fs.createDir(d);
      await fs.createDir(`${d}/other`);
      for (let i = 0; i < 10; i++) await fs.write(`${d}/f${i}`, enc(String(i)));
      const dir = await fs.open_dir(d);
      assert.ok(dir instanceof Dir);
      const first = await dir.next_batch(3);
      assert.ok(first.length > 0 && first.length <= 3);
      await dir.rewind();
      const names: string[] = [];
      for await (const e of dir) names.push(e.name);
      assert.equal(names.length, 11);
      assert.deepEqual(await dir.nextBatch(), []);
      assert.ok((await dir.metadata()).is_dir());
      assert.equal((await dir.set_attr({ mode: 0o750 })).permissions(), 0o750);
      assert.equal(dec(await (await dir.open_at(enc("f1"), openOptions({ read: true }))).read_at(0n, 10)), "1");
      const f = await dir.openAt("new", openOptions({ write: true, create: true }));
      await f.write_at(0n, enc("made at"));
      await f.close();
      assert.equal(dec(await fs.read(`${d}/new`)), "made at");
      assert.equal((await dir.metadata_at(enc("new"))).size, 7n);
      assert.equal((await dir.set_attr_at(enc("new"), { size: 4n })).size, 4n);
      assert.ok((await dir.create_dir_at(enc("sub"), 0o755)).is_dir());
      const sub = await dir.open_dir_at(enc("sub"));
      assert.ok((await dir.symlink_at(enc("sl"), enc("f1"))).is_symlink());
      assert.equal(dec(await dir.read_link_at(enc("sl"))), "f1");
      assert.equal((await sub.link_at(dir, enc("f2"), enc("f2-link"))).nlink, 2n);
      await dir.rename_at(enc("f3"), sub, enc("f3-moved"));
      await dir.renameAt("f4", dir, "f4-renamed");
      assert.equal(dec(await fs.read(`${d}/sub/f3-moved`)), "3");
      assert.equal(dec(await fs.read(`${d}/f4-renamed`)), "4");
      assert.equal((await dir.mknod_at(enc("fifo"), NodeKind.Fifo, 0o600)).file_type, "Fifo");
      await dir.remove_file_at(enc("fifo"));
      await sub.remove_file_at("f2-link");
      await sub.remove_file_at("f3-moved");
      await dir.remove_dir_at(enc("sub").slice());
      await sub.close();
      await dir.close();
      await dir.close();
      await rejects(dir.next_batch(), NinefoldErrorClosed, "EBADF");
      await rejects(dir.link_at(sub, "x", "y"), NinefoldErrorClosed, "EBADF");
    });

    test("non-UTF-8 names through name_bytes and the *_at calls", async () => {
      const d = fresh();
      await fs.createDir(d);
      const raw = Uint8Array.from([0x66, 0x6f, 0xff, 0xfe, 0x2e, 0x62]);
      const dir = await fs.openDir(d);
      const f = await dir.open_at(raw, openOptions({ write: true, create: true }));
      await f.write_at(0n, enc("bytes"));
      await f.close();
      await dir.create_dir_at(Uint8Array.from([0xc3, 0x28]), 0o755);
      const list = await fs.read_dir(d);
      assert.equal(list.length, 2);
      for (const e of list) {
        assert.equal(e.name_is_utf8, false);
        assert.ok(e.name.includes("\uFFFD"));
        const m = await dir.metadata_at(e.nameBytes);
        assert.equal(m.file_type, e.file_type);
      }
      const file = list.find((e) => e.fileType === "File")!;
      assert.deepEqual(new Uint8Array(file.name_bytes), raw);
      // The raw bytes work as a path too.
      const path = Buffer.concat([Buffer.from(`${d}/`), raw]);
      assert.equal(dec(await fs.read(path)), "bytes");
      await dir.remove_file_at(file.name_bytes);
      await dir.remove_dir_at(list.find((e) => e.fileType === "Dir")!.nameBytes);
      assert.deepEqual(await fs.read_dir(d), []);
      await dir.close();
    });

    test("error codes: subclasses with code, errno, syscall, path", async () => {
      const d = fresh();
      await fs.createDir(d);
      await fs.write(`${d}/file`, enc("x"));
      const e = await rejects(fs.stat(`${d}/missing`), NinefoldErrorNotFound, "ENOENT", "stat");
      assert.equal(e.path, `${d}/missing`);
      assert.equal(e.errno, -2);
      assert.equal(e.variant, "NotFound");
      assert.ok(e instanceof NinefoldError.NotFound);
      assert.match(e.message, /^ENOENT: .*stat '\/t\d+\/missing'$/);
      await rejects(fs.createDir(d), NinefoldErrorAlreadyExists, "EEXIST", "create_dir");
      await rejects(fs.stat(`${d}/file/x`), NinefoldErrorNotADirectory, "ENOTDIR");
      await rejects(fs.open(d, openOptions({ write: true })), NinefoldErrorIsADirectory, "EISDIR", "open");
      await rejects(fs.remove_dir(d), NinefoldErrorDirectoryNotEmpty, "ENOTEMPTY", "remove_dir");
      await rejects(fs.write(`${d}/${"n".repeat(256)}`, enc("")), NinefoldErrorNameTooLong, "ENAMETOOLONG");
      await fs.symlink("loop2", `${d}/loop1`);
      await fs.symlink("loop1", `${d}/loop2`);
      await rejects(fs.metadata(`${d}/loop1`), NinefoldErrorTooManySymlinks, "ELOOP", "metadata");
      const r = await rejects(fs.rename(`${d}/nope`, `${d}/other`), NinefoldErrorNotFound, "ENOENT", "rename");
      assert.equal(r.dest, `${d}/other`);
      // Client-side argument checks.
      await rejects(fs.read_range(`${d}/file`, -1n, 1), NinefoldErrorInvalidArgument, "EINVAL");
      await rejects(fs.read_range(`${d}/file`, 0.5, 1), NinefoldErrorInvalidArgument, "EINVAL");
      await rejects(fs.write(`${d}/file`, 42 as unknown as Uint8Array), NinefoldErrorInvalidArgument, "EINVAL");
      await rejects(fs.mknod(`${d}/dev`, { kind: "Bogus" } as unknown as NodeKind), NinefoldErrorInvalidArgument, "EINVAL");
      await rejects(fs.chmod(`${d}/file`, "rw" as unknown as number), NinefoldErrorInvalidArgument, "EINVAL", "chmod");
      await rejects(fs.chmod(`${d}/file`, -1), NinefoldErrorInvalidArgument, "EINVAL", "chmod");
      // Existing err.code handling works.
      try {
        await fs.read(`${d}/missing`);
        assert.fail("read of a missing file");
      } catch (err) {
        assert.equal((err as NodeJS.ErrnoException).code, "ENOENT");
      }
    });

    test("a closed client fails with Closed", async () => {
      const c = await connect(server);
      await c.close();
      await c.close();
      assert.equal(c.closed, true);
      await rejects(c.stat("/"), NinefoldErrorClosed, "EBADF");
    });

    test("fs/promises adapter", async () => {
      const pfs = createFs(fs);
      const d = fresh();
      assert.equal(await pfs.mkdir(`${d}/x/y`, { recursive: true }), d);
      await pfs.writeFile(`${d}/x/a.txt`, "hello", "utf8");
      assert.equal(await pfs.readFile(`${d}/x/a.txt`, "utf8"), "hello");
      assert.ok(Buffer.isBuffer(await pfs.readFile(`${d}/x/a.txt`)));
      await pfs.appendFile(`${d}/x/a.txt`, " there");
      assert.equal(await pfs.readFile(`${d}/x/a.txt`, { encoding: "utf8" }), "hello there");
      await assert.rejects(pfs.writeFile(`${d}/x/a.txt`, "no", { flag: "wx" }), { code: "EEXIST" });
      const st = await pfs.stat(`${d}/x/a.txt`);
      assert.ok(st.isFile() && !st.isDirectory());
      assert.equal(st.size, 11);
      assert.ok(st.mtime instanceof Date && typeof st.mtimeMs === "number");
      const bst = await pfs.stat(`${d}/x/a.txt`, { bigint: true });
      assert.equal(bst.size, 11n);
      assert.deepEqual((await pfs.readdir(`${d}/x`)).sort(), ["a.txt", "y"]);
      const ents = await pfs.readdir(`${d}/x`, { withFileTypes: true });
      assert.ok(ents.find((e) => e.name === "y")!.isDirectory());
      await pfs.rename(`${d}/x/a.txt`, `${d}/x/b.txt`);
      await assert.rejects(pfs.stat(`${d}/x/a.txt`), { code: "ENOENT", syscall: "metadata" });
      await assert.rejects(pfs.mkdir(`${d}/x`), { code: "EEXIST" });
      await assert.rejects(pfs.rm(`${d}/x`), { code: "ERR_FS_EISDIR" });
      await pfs.rm(`${d}/nothing`, { force: true });
      await assert.rejects(pfs.rm(`${d}/nothing`), { code: "ENOENT" });
      await pfs.symlink("b.txt", `${d}/x/link`);
      assert.equal(await pfs.readlink(`${d}/x/link`), "b.txt");
      assert.ok((await pfs.lstat(`${d}/x/link`)).isSymbolicLink());
      await pfs.rm(`${d}/x/link`);
      await pfs.rm(d, { recursive: true });
      await assert.rejects(pfs.access(d), { code: "ENOENT" });
    });
  });
}

test("connect to nothing fails with ConnectFailed", async () => {
  const e = await rejects(
    Client.connect_with("unix:/nonexistent/ninefold.sock", { connect_timeout_ms: 2000 }),
    NinefoldErrorConnectFailed,
    "EIO",
  );
  assert.equal(e.syscall, "connect_with");
  await assert.rejects(Client.connect(42 as unknown as string), NinefoldErrorInvalidArgument);
});
