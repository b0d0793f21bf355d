'use strict';
// Client, File and Dir: the seed's operations with snake_case names (and
// camelCase aliases added by aliasMethods).

const native = require('./native');
const { invoke } = require('./call');
const { convert, invalid } = require('./errors');
const R = require('./records');
const streams = require('./streams');

const meta = (raw) => new R.Metadata(raw);
const entries = (raw) => raw.map((e) => new R.DirEntry(e));

/** A connected 9P session: every path operation. Safe to share. */
class Client {
  #n;
  #closed = false;

  /** @internal use Client.connect / Client.connect_with. */
  constructor(n, token) {
    if (token !== Client.#token) throw new TypeError('use Client.connect(target) or Client.connect_with(target, options)');
    this.#n = n;
  }
  static #token = Symbol('Client');

  /** Connects to `target` (unix:/path, tcp://host:port, host:port, host, /path). */
  static async connect(target, opts) {
    if (typeof target !== 'string') throw invalid('connect', 'target must be a string');
    const n = await invoke(opts, 'connect', target, undefined, (c) => native.connect(target, undefined, c));
    return new Client(n, Client.#token);
  }

  /** Connects with a ConnectOptions (identity, aname, msize, timeout). */
  static async connect_with(target, options, opts) {
    if (typeof target !== 'string') throw invalid('connect_with', 'target must be a string');
    const o = R.nativeConnectOptions(options);
    const n = await invoke(opts, 'connect_with', target, undefined, (c) => native.connect(target, o, c));
    return new Client(n, Client.#token);
  }

  /** Negotiated session properties (synchronous). */
  capabilities() {
    try {
      return new R.Capabilities(this.#n.capabilities());
    } catch (e) {
      throw convert(e, 'capabilities');
    }
  }
  /** Whether close() was called. */
  get closed() {
    return this.#closed;
  }
  /** Marks the client closed; idempotent, never waits. */
  async close() {
    this.#closed = true;
    await this.#n.close();
  }
  [Symbol.asyncDispose]() {
    return this.close();
  }

  async read(path, opts) {
    const p = R.pathArg(path, 'read');
    return invoke(opts, 'read', path, undefined, (c) => this.#n.read(p, c));
  }
  async read_range(path, offset, len, opts) {
    const p = R.pathArg(path, 'read_range');
    const o = R.big(offset, 'offset', 'read_range', path);
    const l = R.len(len, 'read_range');
    return invoke(opts, 'read_range', path, undefined, (c) => this.#n.readRange(p, o, l, c));
  }
  async write(path, data, opts) {
    const p = R.pathArg(path, 'write');
    const d = R.bytes(data, 'write', path);
    return invoke(opts, 'write', path, undefined, (c) => this.#n.write(p, d, c));
  }
  async append(path, data, opts) {
    const p = R.pathArg(path, 'append');
    const d = R.bytes(data, 'append', path);
    return invoke(opts, 'append', path, undefined, (c) => this.#n.append(p, d, c));
  }
  async stat(path, opts) {
    const p = R.pathArg(path, 'stat');
    return meta(await invoke(opts, 'stat', path, undefined, (c) => this.#n.stat(p, c)));
  }
  async metadata(path, opts) {
    const p = R.pathArg(path, 'metadata');
    return meta(await invoke(opts, 'metadata', path, undefined, (c) => this.#n.metadata(p, c)));
  }
  async canonicalize(path, opts) {
    const p = R.pathArg(path, 'canonicalize');
    return invoke(opts, 'canonicalize', path, undefined, (c) => this.#n.canonicalize(p, c));
  }
  async exists(path, opts) {
    const p = R.pathArg(path, 'exists');
    return invoke(opts, 'exists', path, undefined, (c) => this.#n.exists(p, c));
  }
  async set_attr(path, attrs, opts) {
    const p = R.pathArg(path, 'set_attr');
    const a = R.nativeSetAttrs(attrs, 'set_attr', path);
    return meta(await invoke(opts, 'set_attr', path, undefined, (c) => this.#n.setAttr(p, a, c)));
  }
  async chmod(path, mode, opts) {
    const p = R.pathArg(path, 'chmod');
    const m = R.u32(mode, 'mode', 'chmod', path);
    return meta(await invoke(opts, 'chmod', path, undefined, (c) => this.#n.chmod(p, m, c)));
  }
  async chown(path, uid, gid, opts) {
    const p = R.pathArg(path, 'chown');
    const u = R.optU32(uid, 'uid', 'chown', path);
    const g = R.optU32(gid, 'gid', 'chown', path);
    return meta(await invoke(opts, 'chown', path, undefined, (c) => this.#n.chown(p, u, g, c)));
  }
  async truncate(path, size, opts) {
    const p = R.pathArg(path, 'truncate');
    const s = R.big(size, 'size', 'truncate', path);
    return meta(await invoke(opts, 'truncate', path, undefined, (c) => this.#n.truncate(p, s, c)));
  }
  async set_times(path, atime, mtime, opts) {
    const p = R.pathArg(path, 'set_times');
    const t = {};
    R.nativeTime(t, 'atime', atime, 'set_times');
    R.nativeTime(t, 'mtime', mtime, 'set_times');
    return meta(await invoke(opts, 'set_times', path, undefined, (c) => this.#n.setTimes(p, t, c)));
  }
  async statfs(opts) {
    return new R.StatFs(await invoke(opts, 'statfs', undefined, undefined, (c) => this.#n.statfs(c)));
  }
  async sync(opts) {
    return invoke(opts, 'sync', undefined, undefined, (c) => this.#n.sync(c));
  }
  async create_dir(path, mode = 0o755, opts) {
    const p = R.pathArg(path, 'create_dir');
    R.u32(mode, 'mode', 'create_dir', path);
    return meta(await invoke(opts, 'create_dir', path, undefined, (c) => this.#n.createDir(p, mode, c)));
  }
  async create_dir_all(path, mode = 0o755, opts) {
    const p = R.pathArg(path, 'create_dir_all');
    R.u32(mode, 'mode', 'create_dir_all', path);
    return invoke(opts, 'create_dir_all', path, undefined, (c) => this.#n.createDirAll(p, mode, c));
  }
  async remove_file(path, opts) {
    const p = R.pathArg(path, 'remove_file');
    return invoke(opts, 'remove_file', path, undefined, (c) => this.#n.removeFile(p, c));
  }
  async remove_dir(path, opts) {
    const p = R.pathArg(path, 'remove_dir');
    return invoke(opts, 'remove_dir', path, undefined, (c) => this.#n.removeDir(p, c));
  }
  async remove_dir_all(path, opts) {
    const p = R.pathArg(path, 'remove_dir_all');
    return invoke(opts, 'remove_dir_all', path, undefined, (c) => this.#n.removeDirAll(p, c));
  }
  async rename(from, to, opts) {
    const f = R.pathArg(from, 'rename');
    const t = R.pathArg(to, 'rename');
    return invoke(opts, 'rename', from, to, (c) => this.#n.rename(f, t, c));
  }
  async hard_link(original, link, opts) {
    const o = R.pathArg(original, 'hard_link');
    const l = R.pathArg(link, 'hard_link');
    return meta(await invoke(opts, 'hard_link', original, link, (c) => this.#n.hardLink(o, l, c)));
  }
  async symlink(target, link_path, opts) {
    const t = R.pathArg(target, 'symlink');
    const l = R.pathArg(link_path, 'symlink');
    return meta(await invoke(opts, 'symlink', link_path, target, (c) => this.#n.symlink(t, l, c)));
  }
  async read_link(path, opts) {
    const p = R.pathArg(path, 'read_link');
    return invoke(opts, 'read_link', path, undefined, (c) => this.#n.readLink(p, c));
  }
  async mknod(path, kind, mode = 0o644, opts) {
    const p = R.pathArg(path, 'mknod');
    const k = R.nativeNodeKind(kind, 'mknod', path);
    R.u32(mode, 'mode', 'mknod', path);
    return meta(await invoke(opts, 'mknod', path, undefined, (c) => this.#n.mknod(p, k, mode, c)));
  }
  async read_dir(path, opts) {
    const p = R.pathArg(path, 'read_dir');
    return entries(await invoke(opts, 'read_dir', path, undefined, (c) => this.#n.readDir(p, c)));
  }
  async open_dir(path, opts) {
    const p = R.pathArg(path, 'open_dir');
    return new Dir(await invoke(opts, 'open_dir', path, undefined, (c) => this.#n.openDir(p, c)), path, Dir.token);
  }
  async open(path, options, opts) {
    const p = R.pathArg(path, 'open');
    const o = R.nativeOpenOptions(options, 'open', path);
    return new File(await invoke(opts, 'open', path, undefined, (c) => this.#n.open(p, o, c)), path, File.token);
  }
  async create(path, opts) {
    const p = R.pathArg(path, 'create');
    return new File(await invoke(opts, 'create', path, undefined, (c) => this.#n.create(p, c)), path, File.token);
  }
}

/** An open file: positioned I/O, usable from many tasks at once. */
class File {
  #n;
  #closed = false;
  static token = Symbol('File');

  /** @internal use Client.open / Client.create / Dir.open_at. */
  constructor(n, path, token) {
    if (token !== File.token) throw new TypeError('use client.open(path, options)');
    this.#n = n;
    /** The path (or name) the file was opened by. */
    this.path = path;
  }
  get closed() {
    return this.#closed;
  }
  async read_at(offset, len, opts) {
    const o = R.big(offset, 'offset', 'read_at', this.path);
    const l = R.len(len, 'read_at');
    return invoke(opts, 'read_at', this.path, undefined, (c) => this.#n.readAt(o, l, c));
  }
  async read_into(offset, buffer, opts) {
    const o = R.big(offset, 'offset', 'read_into', this.path);
    const b = R.target(buffer, 'read_into', this.path);
    return invoke(opts, 'read_into', this.path, undefined, (c) => this.#n.readInto(o, b, c));
  }
  async write_at(offset, data, opts) {
    const o = R.big(offset, 'offset', 'write_at', this.path);
    const d = R.bytes(data, 'write_at', this.path);
    return invoke(opts, 'write_at', this.path, undefined, (c) => this.#n.writeAt(o, d, c));
  }
  async metadata(opts) {
    return meta(await invoke(opts, 'metadata', this.path, undefined, (c) => this.#n.metadata(c)));
  }
  async set_len(size, opts) {
    const s = R.big(size, 'size', 'set_len', this.path);
    return invoke(opts, 'set_len', this.path, undefined, (c) => this.#n.setLen(s, c));
  }
  async set_attr(attrs, opts) {
    const a = R.nativeSetAttrs(attrs, 'set_attr', this.path);
    return meta(await invoke(opts, 'set_attr', this.path, undefined, (c) => this.#n.setAttr(a, c)));
  }
  async sync_all(opts) {
    return invoke(opts, 'sync_all', this.path, undefined, (c) => this.#n.syncAll(c));
  }
  async sync_data(opts) {
    return invoke(opts, 'sync_data', this.path, undefined, (c) => this.#n.syncData(c));
  }
  /** Closes the handle: idempotent, never hangs; the fid is released. */
  async close() {
    this.#closed = true;
    await this.#n.close();
  }
  [Symbol.asyncDispose]() {
    return this.close();
  }
  /** A ReadableStream of the file's bytes from `start` (pull-based: reads only as fast as it is consumed). */
  readable(options) {
    return streams.readable(this, options, this.#n.readChunk());
  }
  /** A WritableStream writing at `start` onward (each chunk awaited: backpressure). */
  writable(options) {
    return streams.writable(this, options);
  }
}

/** An open directory: a listing cursor plus openat-style child operations. */
class Dir {
  #n;
  #closed = false;
  static token = Symbol('Dir');

  /** @internal use Client.open_dir / Dir.open_dir_at. */
  constructor(n, path, token) {
    if (token !== Dir.token) throw new TypeError('use client.open_dir(path)');
    this.#n = n;
    /** The path (or name) the directory was opened by. */
    this.path = path;
  }
  static native(d) {
    if (!(d instanceof Dir)) return undefined;
    return d.#n;
  }
  get closed() {
    return this.#closed;
  }
  async next_batch(max, opts) {
    const m = max === undefined || max === null ? undefined : R.len(max, 'next_batch');
    return entries(await invoke(opts, 'next_batch', this.path, undefined, (c) => this.#n.nextBatch(m, c)));
  }
  async rewind(opts) {
    return invoke(opts, 'rewind', this.path, undefined, (c) => this.#n.rewind(c));
  }
  async metadata(opts) {
    return meta(await invoke(opts, 'metadata', this.path, undefined, (c) => this.#n.metadata(c)));
  }
  async set_attr(attrs, opts) {
    const a = R.nativeSetAttrs(attrs, 'set_attr', this.path);
    return meta(await invoke(opts, 'set_attr', this.path, undefined, (c) => this.#n.setAttr(a, c)));
  }
  async open_at(name, options, opts) {
    const n = R.name(name, 'open_at');
    const o = R.nativeOpenOptions(options, 'open_at', name);
    return new File(await invoke(opts, 'open_at', name, undefined, (c) => this.#n.openAt(n, o, c)), name, File.token);
  }
  async open_dir_at(name, opts) {
    const n = R.name(name, 'open_dir_at');
    return new Dir(await invoke(opts, 'open_dir_at', name, undefined, (c) => this.#n.openDirAt(n, c)), name, Dir.token);
  }
  async metadata_at(name, opts) {
    const n = R.name(name, 'metadata_at');
    return meta(await invoke(opts, 'metadata_at', name, undefined, (c) => this.#n.metadataAt(n, c)));
  }
  async set_attr_at(name, attrs, opts) {
    const n = R.name(name, 'set_attr_at');
    const a = R.nativeSetAttrs(attrs, 'set_attr_at', name);
    return meta(await invoke(opts, 'set_attr_at', name, undefined, (c) => this.#n.setAttrAt(n, a, c)));
  }
  async create_dir_at(name, mode = 0o755, opts) {
    const n = R.name(name, 'create_dir_at');
    R.u32(mode, 'mode', 'create_dir_at', name);
    return meta(await invoke(opts, 'create_dir_at', name, undefined, (c) => this.#n.createDirAt(n, mode, c)));
  }
  async symlink_at(name, target, opts) {
    const n = R.name(name, 'symlink_at');
    const t = R.name(target, 'symlink_at');
    return meta(await invoke(opts, 'symlink_at', name, target, (c) => this.#n.symlinkAt(n, t, c)));
  }
  async link_at(original_dir, original_name, new_name, opts) {
    const od = Dir.native(original_dir);
    if (od === undefined) throw invalid('link_at', 'original_dir must be an open Dir');
    const o = R.name(original_name, 'link_at');
    const n = R.name(new_name, 'link_at');
    return meta(await invoke(opts, 'link_at', original_name, new_name, (c) => this.#n.linkAt(od, o, n, c)));
  }
  async mknod_at(name, kind, mode = 0o644, opts) {
    const n = R.name(name, 'mknod_at');
    const k = R.nativeNodeKind(kind, 'mknod_at', name);
    R.u32(mode, 'mode', 'mknod_at', name);
    return meta(await invoke(opts, 'mknod_at', name, undefined, (c) => this.#n.mknodAt(n, k, mode, c)));
  }
  async remove_file_at(name, opts) {
    const n = R.name(name, 'remove_file_at');
    return invoke(opts, 'remove_file_at', name, undefined, (c) => this.#n.removeFileAt(n, c));
  }
  async remove_dir_at(name, opts) {
    const n = R.name(name, 'remove_dir_at');
    return invoke(opts, 'remove_dir_at', name, undefined, (c) => this.#n.removeDirAt(n, c));
  }
  async rename_at(old_name, new_dir, new_name, opts) {
    const nd = Dir.native(new_dir);
    if (nd === undefined) throw invalid('rename_at', 'new_dir must be an open Dir');
    const o = R.name(old_name, 'rename_at');
    const n = R.name(new_name, 'rename_at');
    return invoke(opts, 'rename_at', old_name, new_name, (c) => this.#n.renameAt(o, nd, n, c));
  }
  async read_link_at(name, opts) {
    const n = R.name(name, 'read_link_at');
    return invoke(opts, 'read_link_at', name, undefined, (c) => this.#n.readLinkAt(n, c));
  }
  /** Closes the handle: idempotent, never hangs; the fid is released. */
  async close() {
    this.#closed = true;
    await this.#n.close();
  }
  [Symbol.asyncDispose]() {
    return this.close();
  }
  /** Every remaining entry, batch by batch (`for await (const e of dir)`). */
  async *entries(opts) {
    for (;;) {
      const batch = await this.next_batch(undefined, opts);
      if (batch.length === 0) return;
      yield* batch;
    }
  }
  [Symbol.asyncIterator]() {
    return this.entries();
  }
}

R.aliasMethods(Client);
R.aliasMethods(File);
R.aliasMethods(Dir);

module.exports = { Client, File, Dir };
