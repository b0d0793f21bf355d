'use strict';
// A node:fs/promises-shaped adapter over a Client: readFile, writeFile,
// appendFile, readdir, stat, lstat, mkdir, rm, rmdir, unlink, rename,
// access, readlink, symlink, chmod, truncate. Errors carry Node's codes
// (err.code === 'ENOENT'), so code written for fs runs with one import
// changed.

const { Client } = require('./lib/handles');
const { classes } = require('./lib/errors');

const opt = (o) => (typeof o === 'string' ? { encoding: o } : o ?? {});
const call = (o) => (o.signal ? { signal: o.signal } : undefined);

function decode(buf, encoding) {
  if (!encoding || encoding === 'buffer') return buf;
  return buf.toString(encoding);
}

function toBytes(data, encoding) {
  if (typeof data === 'string') return Buffer.from(data, encoding || 'utf8');
  return data;
}

const big = (b, asBig) => (asBig ? BigInt(b) : Number(b));

/** A node:fs Stats lookalike (numbers, or bigints with { bigint: true }). */
class Stats {
  constructor(m, asBig) {
    this.dev = big(0, asBig);
    this.ino = big(m.ino, asBig);
    this.mode = big(m.mode, asBig);
    this.nlink = big(m.nlink, asBig);
    this.uid = big(m.uid, asBig);
    this.gid = big(m.gid, asBig);
    this.rdev = big(m.rdev, asBig);
    this.size = big(m.size, asBig);
    this.blksize = big(m.block_size, asBig);
    this.blocks = big(m.blocks, asBig);
    const ms = (ns) => (asBig ? ns / 1000000n : Number(ns) / 1e6);
    this.atimeMs = ms(m.atime_ns);
    this.mtimeMs = ms(m.mtime_ns);
    this.ctimeMs = ms(m.ctime_ns);
    this.birthtimeMs = ms(m.btime_ns);
    if (asBig) {
      this.atimeNs = m.atime_ns;
      this.mtimeNs = m.mtime_ns;
      this.ctimeNs = m.ctime_ns;
      this.birthtimeNs = m.btime_ns;
    }
    this.atime = m.atime;
    this.mtime = m.mtime;
    this.ctime = m.ctime;
    this.birthtime = m.btime;
    Object.defineProperty(this, '_type', { value: m.file_type });
  }
  isFile() {
    return this._type === 'File';
  }
  isDirectory() {
    return this._type === 'Dir';
  }
  isSymbolicLink() {
    return this._type === 'Symlink';
  }
  isFIFO() {
    return this._type === 'Fifo';
  }
  isSocket() {
    return this._type === 'Socket';
  }
  isCharacterDevice() {
    return this._type === 'CharDevice';
  }
  isBlockDevice() {
    return this._type === 'BlockDevice';
  }
}

/** A node:fs Dirent lookalike. */
class Dirent {
  constructor(e, parentPath) {
    this.name = e.name;
    this.parentPath = parentPath;
    this.path = parentPath;
    Object.defineProperty(this, '_type', { value: e.file_type });
  }
}
for (const k of ['isFile', 'isDirectory', 'isSymbolicLink', 'isFIFO', 'isSocket', 'isCharacterDevice', 'isBlockDevice']) {
  Dirent.prototype[k] = Stats.prototype[k];
}

const join = (a, b) => (a.endsWith('/') ? a + b : `${a}/${b}`);

/** The node:fs/promises-shaped functions over `client`. */
function createFs(client) {
  if (!(client instanceof Client)) throw new TypeError('createFs needs a ninefold Client');
  const fs = {
    async readFile(path, options) {
      const o = opt(options);
      return decode(await client.read(path, call(o)), o.encoding);
    },
    async writeFile(path, data, options) {
      const o = opt(options);
      const flag = o.flag ?? 'w';
      const bytes = toBytes(data, o.encoding);
      if (flag === 'a') {
        await client.append(path, bytes, call(o));
        return;
      }
      if (flag === 'wx') {
        const f = await client.open(path, { write: true, create_new: true, mode: o.mode ?? 0o666 }, call(o));
        try {
          await f.write_at(0n, bytes, call(o));
        } finally {
          await f.close();
        }
        return;
      }
      await client.write(path, bytes, call(o));
      if (o.mode !== undefined) await client.chmod(path, o.mode, call(o));
    },
    async appendFile(path, data, options) {
      const o = opt(options);
      await client.append(path, toBytes(data, o.encoding), call(o));
    },
    async readdir(path, options) {
      const o = opt(options);
      const list = await client.read_dir(path, call(o));
      if (o.withFileTypes) return list.map((e) => new Dirent(e, path));
      return list.map((e) => (o.encoding === 'buffer' ? Buffer.from(e.name_bytes) : e.name));
    },
    async stat(path, options) {
      const o = opt(options);
      return new Stats(await client.metadata(path, call(o)), Boolean(o.bigint));
    },
    async lstat(path, options) {
      const o = opt(options);
      return new Stats(await client.stat(path, call(o)), Boolean(o.bigint));
    },
    async mkdir(path, options) {
      const o = typeof options === 'number' ? { mode: options } : opt(options);
      const mode = o.mode ?? 0o777;
      if (!o.recursive) {
        await client.create_dir(path, mode, call(o));
        return undefined;
      }
      // Like fs: the first directory created, or undefined if none was.
      let first;
      const parts = path.split('/').filter(Boolean);
      let cur = path.startsWith('/') ? '' : '.';
      for (const p of parts) {
        cur = cur === '' ? `/${p}` : join(cur, p);
        if (first === undefined && !(await client.exists(cur, call(o)))) first = cur;
      }
      await client.create_dir_all(path, mode, call(o));
      return first;
    },
    async rm(path, options) {
      const o = opt(options);
      let m;
      try {
        m = await client.stat(path, call(o));
      } catch (e) {
        if (o.force && e.code === 'ENOENT') return;
        throw e;
      }
      if (m.file_type === 'Dir') {
        if (!o.recursive) {
          const err = new classes.IsADirectory(`ERR_FS_EISDIR: Path is a directory: rm returned EISDIR (is a directory) ${path}`, {
            code: 'ERR_FS_EISDIR',
            errno: -21,
            syscall: 'rm',
            path,
            variant: 'IsADirectory',
          });
          throw err;
        }
        await client.remove_dir_all(path, call(o));
      } else {
        await client.remove_file(path, call(o));
      }
    },
    async rmdir(path, options) {
      await client.remove_dir(path, call(opt(options)));
    },
    async unlink(path) {
      await client.remove_file(path);
    },
    async rename(from, to) {
      await client.rename(from, to);
    },
    async access(path) {
      await client.stat(path);
    },
    async readlink(path, options) {
      const o = opt(options);
      return decode(await client.read_link(path, call(o)), o.encoding ?? 'utf8');
    },
    async symlink(target, path) {
      await client.symlink(target, path);
    },
    async chmod(path, mode) {
      await client.chmod(path, mode);
    },
    async truncate(path, len = 0) {
      await client.truncate(path, len);
    },
    async copyFile(src, dest) {
      await client.write(dest, await client.read(src));
    },
  };
  return fs;
}

/** Connects and returns createFs(client) plus the client (as `.client`). */
async function connectFs(target, options) {
  const client = options ? await Client.connect_with(target, options) : await Client.connect(target);
  const fs = createFs(client);
  fs.client = client;
  fs[Symbol.asyncDispose] = () => client.close();
  return fs;
}

module.exports = { createFs, connectFs, Stats, Dirent };
