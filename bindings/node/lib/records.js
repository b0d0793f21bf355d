'use strict';
// Records (Metadata, DirEntry, StatFs, Capabilities), option builders and
// the conversions of JavaScript arguments for the addon.

const { invalid } = require('./errors');

const camel = (s) => s.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());

/** Defines a camelCase getter for every snake_case field name. */
function aliasFields(Cls, fields) {
  for (const f of fields) {
    const c = camel(f);
    if (c === f) continue;
    Object.defineProperty(Cls.prototype, c, {
      get() {
        return this[f];
      },
      configurable: true,
    });
  }
}

/** Defines a camelCase alias for every snake_case method of a class. */
function aliasMethods(Cls) {
  const proto = Cls.prototype;
  for (const name of Object.getOwnPropertyNames(proto)) {
    const c = camel(name);
    if (c === name || name.startsWith('_')) continue;
    const d = Object.getOwnPropertyDescriptor(proto, name);
    if (d && typeof d.value === 'function') Object.defineProperty(proto, c, { ...d, enumerable: false });
  }
  for (const name of Object.getOwnPropertyNames(Cls)) {
    const c = camel(name);
    const d = Object.getOwnPropertyDescriptor(Cls, name);
    if (c !== name && d && typeof d.value === 'function') Object.defineProperty(Cls, c, { ...d, enumerable: false });
  }
}

/** The file types of the seed's FileType. */
const FileType = Object.freeze({
  File: 'File',
  Dir: 'Dir',
  Symlink: 'Symlink',
  Fifo: 'Fifo',
  Socket: 'Socket',
  CharDevice: 'CharDevice',
  BlockDevice: 'BlockDevice',
  Unknown: 'Unknown',
});

const NS = 1000000000n;
/** FileType names by the index the addon sends (src/convert.rs FILE_TYPES). */
const FILE_TYPES = ['File', 'Dir', 'Symlink', 'Fifo', 'Socket', 'CharDevice', 'BlockDevice', 'Unknown'];
const date = (sec, nsec) => new Date(Number(sec) * 1000 + Math.floor(Number(nsec) / 1e6));
const ns = (sec, nsec) => sec * NS + nsec;

/** Metadata of a file (stat). */
class Metadata {
  /** @internal `w`: the addon's packed BigUint64Array (src/convert.rs `meta`). */
  constructor(w) {
    this.ino = w[0];
    this.file_type = FILE_TYPES[Number(w[1])] ?? 'Unknown';
    this.mode = Number(w[2]);
    this.nlink = w[3];
    this.uid = Number(w[4]);
    this.gid = Number(w[5]);
    this.size = w[6];
    this.block_size = w[7];
    this.blocks = w[8];
    this.rdev = w[9];
    const as = BigInt.asIntN(64, w[10]);
    const ms = BigInt.asIntN(64, w[12]);
    const cs = BigInt.asIntN(64, w[14]);
    const bs = BigInt.asIntN(64, w[16]);
    this.atime = date(as, w[11]);
    this.mtime = date(ms, w[13]);
    this.ctime = date(cs, w[15]);
    this.btime = date(bs, w[17]);
    this.atime_ns = ns(as, w[11]);
    this.mtime_ns = ns(ms, w[13]);
    this.ctime_ns = ns(cs, w[15]);
    this.btime_ns = ns(bs, w[17]);
    this.data_version = w[18];
  }
  is_file() {
    return this.file_type === 'File';
  }
  is_dir() {
    return this.file_type === 'Dir';
  }
  is_symlink() {
    return this.file_type === 'Symlink';
  }
  /** Permission bits (mode & 0o7777). */
  permissions() {
    return this.mode & 0o7777;
  }
  /** node:fs spellings. */
  isDirectory() {
    return this.is_dir();
  }
  isSymbolicLink() {
    return this.is_symlink();
  }
}
aliasFields(Metadata, ['file_type', 'block_size', 'atime_ns', 'mtime_ns', 'ctime_ns', 'btime_ns', 'data_version']);
aliasMethods(Metadata);

/** One directory entry. */
class DirEntry {
  constructor(raw) {
    this.name = raw.name;
    this.name_bytes = raw.nameBytes;
    this.name_is_utf8 = raw.nameIsUtf8;
    this.file_type = raw.fileType;
    this.ino = raw.ino;
    this.metadata = raw.metadata == null ? undefined : new Metadata(raw.metadata);
  }
}
aliasFields(DirEntry, ['name_bytes', 'name_is_utf8', 'file_type']);

/** Filesystem usage and limits. */
class StatFs {
  constructor(raw) {
    this.block_size = raw.blockSize;
    this.blocks = raw.blocks;
    this.blocks_free = raw.blocksFree;
    this.blocks_available = raw.blocksAvailable;
    this.files = raw.files;
    this.files_free = raw.filesFree;
    this.filesystem_id = raw.filesystemId;
    this.max_name_len = raw.maxNameLen;
  }
}
aliasFields(StatFs, ['block_size', 'blocks_free', 'blocks_available', 'files_free', 'filesystem_id', 'max_name_len']);

/** Negotiated session properties. */
class Capabilities {
  constructor(raw) {
    this.dialect = raw.dialect;
    this.extensions_v1 = raw.extensionsV1;
    this.extensions_v2 = raw.extensionsV2;
    this.msize = raw.msize;
    this.max_read_chunk = raw.maxReadChunk;
    this.max_write_chunk = raw.maxWriteChunk;
  }
}
aliasFields(Capabilities, ['extensions_v1', 'extensions_v2', 'max_read_chunk', 'max_write_chunk']);

const isFile = (m) => m.file_type === 'File';
const isDir = (m) => m.file_type === 'Dir';
const isSymlink = (m) => m.file_type === 'Symlink';

/** OpenOptions with the seed's defaults applied. */
function openOptions(o = {}) {
  const pick = (a, b, d) => (o[a] !== undefined ? o[a] : o[b] !== undefined ? o[b] : d);
  return Object.freeze({
    read: Boolean(o.read ?? false),
    write: Boolean(o.write ?? false),
    create: Boolean(o.create ?? false),
    create_new: Boolean(pick('create_new', 'createNew', false)),
    truncate: Boolean(o.truncate ?? false),
    mode: o.mode ?? 0o644,
  });
}

function nativeOpenOptions(o, syscall, path) {
  if (o === undefined) return { read: true };
  if (o === null || typeof o !== 'object') throw invalid(syscall, 'options must be an OpenOptions object', path);
  const f = openOptions(o);
  u32(f.mode, 'mode', syscall, path);
  return { read: f.read, write: f.write, create: f.create, createNew: f.create_new, truncate: f.truncate, mode: f.mode };
}

function nativeConnectOptions(o) {
  if (o == null) return undefined;
  const g = (a, b) => (o[a] !== undefined ? o[a] : o[b]);
  const t = g('connect_timeout_ms', 'connectTimeoutMs');
  return {
    uid: o.uid,
    gid: o.gid,
    uname: o.uname,
    aname: o.aname,
    msize: o.msize,
    connectTimeoutMs: t === null ? -1 : t,
    maxInFlight: g('max_in_flight', 'maxInFlight'),
  };
}

/** SetTime: the server's clock, or an explicit time. */
const SetTime = Object.freeze({
  Now: Object.freeze({ kind: 'Now' }),
  At: (time) => Object.freeze({ kind: 'At', time }),
});

function splitTime(t, syscall) {
  if (t instanceof Date) {
    const ms = t.getTime();
    if (!Number.isFinite(ms)) throw invalid(syscall, 'invalid Date');
    const sec = Math.floor(ms / 1000);
    return [sec, (ms - sec * 1000) * 1e6];
  }
  if (typeof t === 'bigint') {
    let sec = t / NS;
    let nsec = t % NS;
    if (nsec < 0n) {
      nsec += NS;
      sec -= 1n;
    }
    return [Number(sec), Number(nsec)];
  }
  if (typeof t === 'number' && Number.isFinite(t)) return splitTime(new Date(t), syscall);
  throw invalid(syscall, 'a time must be a Date, a bigint of nanoseconds or SetTime.Now');
}

function nativeTime(out, prefix, t, syscall) {
  if (t === undefined || t === null) return;
  if (t === 'now' || (typeof t === 'object' && t.kind === 'Now')) {
    out[`${prefix}Now`] = true;
    return;
  }
  const v = typeof t === 'object' && !(t instanceof Date) && 'time' in t ? t.time : t;
  const [sec, nsec] = splitTime(v, syscall);
  out[`${prefix}Sec`] = sec;
  out[`${prefix}Nsec`] = nsec;
}

function nativeSetAttrs(a, syscall, path) {
  if (a == null || typeof a !== 'object') throw invalid(syscall, 'attrs must be a SetAttrs object', path);
  const out = {
    mode: optU32(a.mode, 'mode', syscall, path),
    uid: optU32(a.uid, 'uid', syscall, path),
    gid: optU32(a.gid, 'gid', syscall, path),
  };
  if (a.size !== undefined && a.size !== null) out.size = big(a.size, 'size', syscall, path);
  nativeTime(out, 'atime', a.atime, syscall);
  nativeTime(out, 'mtime', a.mtime, syscall);
  return out;
}

/** NodeKind: what mknod makes. */
const NodeKind = Object.freeze({
  Fifo: Object.freeze({ kind: 'Fifo' }),
  Socket: Object.freeze({ kind: 'Socket' }),
  BlockDevice: (major, minor) => Object.freeze(devArgs('BlockDevice', major, minor)),
  CharDevice: (major, minor) => Object.freeze(devArgs('CharDevice', major, minor)),
});

function devArgs(kind, major, minor) {
  if (typeof major === 'object' && major !== null) return { kind, major: major.major, minor: major.minor };
  return { kind, major, minor };
}

function nativeNodeKind(k, syscall, path) {
  if (typeof k === 'string') return { kind: k };
  if (k && typeof k === 'object' && typeof k.kind === 'string') {
    return { kind: k.kind, major: optU32(k.major, 'major', syscall, path), minor: optU32(k.minor, 'minor', syscall, path) };
  }
  throw invalid(syscall, 'kind must be a NodeKind', path);
}

/** A bigint from a bigint or a safe non-negative integer number. */
function big(v, what, syscall, path) {
  if (typeof v === 'bigint') {
    if (v < 0n) throw invalid(syscall, `${what} must not be negative`, path);
    return v;
  }
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  throw invalid(syscall, `${what} must be a non-negative integer (bigint or number)`, path);
}

/** A 32-bit unsigned integer (mode, uid, gid, major, minor). */
function u32(v, what, syscall, path) {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff) return v;
  throw invalid(syscall, `${what} must be an integer from 0 to 2^32-1`, path);
}

/** An optional u32 (undefined and null mean unset). */
const optU32 = (v, what, syscall, path) => (v === undefined || v === null ? undefined : u32(v, what, syscall, path));

/** A length (number, or bigint that fits). */
function len(v, syscall) {
  if (typeof v === 'bigint') v = Number(v);
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  throw invalid(syscall, 'len must be a non-negative integer');
}

const encoder = new TextEncoder();

/** Bytes of a payload: Uint8Array/Buffer as is, other views and strings converted. */
function bytes(data, syscall, path) {
  if (data instanceof Uint8Array) return data;
  if (typeof data === 'string') return encoder.encode(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer || data instanceof SharedArrayBuffer) return new Uint8Array(data);
  throw invalid(syscall, 'data must be a Uint8Array, Buffer, ArrayBuffer(View) or string', path);
}

/**
 * A buffer to read into: any ArrayBufferView (its bytes are written in
 * place, from the addon's threads, until the call settles). A view of a
 * resizable ArrayBuffer is refused: shrinking it during the call would
 * pull the memory from under the write.
 */
function target(buf, syscall, path) {
  if (!ArrayBuffer.isView(buf)) throw invalid(syscall, 'buffer must be a Buffer, TypedArray or DataView', path);
  if (buf.buffer.resizable === true) throw invalid(syscall, 'buffer must not be a view of a resizable ArrayBuffer', path);
  return buf;
}

/** A child name for the *_at calls: bytes as is, a string as UTF-8. */
function name(n, syscall) {
  if (n instanceof Uint8Array) return n;
  if (typeof n === 'string') return encoder.encode(n);
  throw invalid(syscall, 'a name must be a Uint8Array or string');
}

/** A path: a string, or bytes for non-UTF-8 paths. */
function pathArg(p, syscall) {
  if (typeof p === 'string' || p instanceof Uint8Array) return p;
  if (p instanceof URL) {
    if (p.protocol !== 'file:') throw invalid(syscall, 'a URL path must be file:');
    return decodeURIComponent(p.pathname);
  }
  throw invalid(syscall, 'a path must be a string or Uint8Array');
}

module.exports = {
  aliasFields,
  aliasMethods,
  FileType,
  Metadata,
  DirEntry,
  StatFs,
  Capabilities,
  isFile,
  isDir,
  isSymlink,
  openOptions,
  nativeOpenOptions,
  nativeConnectOptions,
  SetTime,
  nativeSetAttrs,
  nativeTime,
  NodeKind,
  nativeNodeKind,
  big,
  u32,
  optU32,
  len,
  bytes,
  target,
  name,
  pathArg,
};
