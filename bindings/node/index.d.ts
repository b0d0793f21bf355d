// Types of the `ninefold` package: a 9P2000.L client over the Rust core
// (ninefold-client). Canonical names are snake_case, as in the API tables;
// every method and record field also has its camelCase alias.

/// <reference types="node" />

/** A path: a string, or raw bytes for a non-UTF-8 path. */
export type PathLike = string | Uint8Array;
/** A child name for the `*_at` calls: exact bytes (`DirEntry.name_bytes`), or a string sent as UTF-8. */
export type Name = Uint8Array | string;
/** A byte payload. */
export type Data = Uint8Array | ArrayBufferView | ArrayBuffer | string;
/** An offset or size: a bigint, or a safe non-negative integer number. */
export type Offset = bigint | number;

/** Per-call options: every call that may wait takes them last. */
export interface CallOptions {
  /** Aborting drops the Rust future (the request is flushed, the fid released) and rejects with an AbortError. */
  signal?: AbortSignal;
}

/** The seed's FileType. */
export type FileType = 'File' | 'Dir' | 'Symlink' | 'Fifo' | 'Socket' | 'CharDevice' | 'BlockDevice' | 'Unknown';
export declare const FileType: { readonly [K in FileType]: K };

/** Metadata of a file. u64 fields are bigints; times are Dates (plus exact nanosecond bigints). */
export declare class Metadata {
  private constructor();
  readonly ino: bigint;
  readonly file_type: FileType;
  readonly fileType: FileType;
  /** Full st_mode. */
  readonly mode: number;
  readonly nlink: bigint;
  readonly uid: number;
  readonly gid: number;
  readonly size: bigint;
  readonly block_size: bigint;
  readonly blockSize: bigint;
  /** 512-byte units. */
  readonly blocks: bigint;
  readonly rdev: bigint;
  readonly atime: Date;
  readonly mtime: Date;
  readonly ctime: Date;
  /** Reserved (servers report 0). */
  readonly btime: Date;
  readonly atime_ns: bigint;
  readonly atimeNs: bigint;
  readonly mtime_ns: bigint;
  readonly mtimeNs: bigint;
  readonly ctime_ns: bigint;
  readonly ctimeNs: bigint;
  readonly btime_ns: bigint;
  readonly btimeNs: bigint;
  /** Reserved (servers report 0). */
  readonly data_version: bigint;
  readonly dataVersion: bigint;
  is_file(): boolean;
  isFile(): boolean;
  is_dir(): boolean;
  isDir(): boolean;
  isDirectory(): boolean;
  is_symlink(): boolean;
  isSymlink(): boolean;
  isSymbolicLink(): boolean;
  /** mode & 0o7777. */
  permissions(): number;
}

/** One directory entry. */
export declare class DirEntry {
  private constructor();
  /** UTF-8, lossy: invalid bytes become U+FFFD. */
  readonly name: string;
  /** The exact on-wire bytes, for the `*_at` methods. */
  readonly name_bytes: Buffer;
  readonly nameBytes: Buffer;
  readonly name_is_utf8: boolean;
  readonly nameIsUtf8: boolean;
  readonly file_type: FileType;
  readonly fileType: FileType;
  readonly ino: bigint;
  /** Present only when readdirplus is negotiated. */
  readonly metadata: Metadata | undefined;
}

/** Filesystem usage and limits. */
export declare class StatFs {
  private constructor();
  readonly block_size: number;
  readonly blockSize: number;
  readonly blocks: bigint;
  readonly blocks_free: bigint;
  readonly blocksFree: bigint;
  readonly blocks_available: bigint;
  readonly blocksAvailable: bigint;
  readonly files: bigint;
  readonly files_free: bigint;
  readonly filesFree: bigint;
  readonly filesystem_id: bigint;
  readonly filesystemId: bigint;
  readonly max_name_len: number;
  readonly maxNameLen: number;
}

/** Negotiated session properties: a snapshot that can change across reconnects. */
export declare class Capabilities {
  private constructor();
  /** The negotiated dialect: `9P2000.L.Z`, `9P2000.L`, `9P2000.u` or `9P2000`. */
  readonly dialect: string;
  readonly extensions_v1: boolean;
  readonly extensionsV1: boolean;
  readonly extensions_v2: boolean;
  readonly extensionsV2: boolean;
  readonly msize: number;
  readonly max_read_chunk: number;
  readonly maxReadChunk: number;
  readonly max_write_chunk: number;
  readonly maxWriteChunk: number;
}

export declare function isFile(m: Metadata): boolean;
export declare function isDir(m: Metadata): boolean;
export declare function isSymlink(m: Metadata): boolean;

/** OpenOptions with every default applied (build it with openOptions()). */
export interface OpenOptions {
  readonly read: boolean;
  readonly write: boolean;
  readonly create: boolean;
  /** Atomic exclusive create: fails unless this call creates the file. */
  readonly create_new: boolean;
  readonly truncate: boolean;
  readonly mode: number;
}
export interface OpenOptionsInit {
  read?: boolean;
  write?: boolean;
  create?: boolean;
  create_new?: boolean;
  createNew?: boolean;
  truncate?: boolean;
  /** Mode of a created file (default 0o644). */
  mode?: number;
}
/** OpenOptions with the defaults: read, write, create, create_new, truncate false; mode 0o644. */
export declare function openOptions(init?: OpenOptionsInit): OpenOptions;

/** Identity and tuning for connect_with. */
export interface ConnectOptions {
  /** Default: the process euid. */
  uid?: number;
  /** Default: the process egid. */
  gid?: number;
  /** Default: $USER (informational). */
  uname?: string;
  /** Attach subtree; default "" (the default export). */
  aname?: string;
  /** Default 1 MiB; the server may clamp it. */
  msize?: number;
  /** Default 30000; null waits indefinitely. */
  connect_timeout_ms?: number | null;
  connectTimeoutMs?: number | null;
  /** Most requests in flight at once. */
  max_in_flight?: number;
  maxInFlight?: number;
}

/** A time to set: SetTime.Now (the server clock), SetTime.At(time), or a bare Date / nanosecond bigint. */
export type SetTime = { readonly kind: 'Now' } | { readonly kind: 'At'; readonly time: Date | bigint } | Date | bigint;
export declare const SetTime: {
  readonly Now: { readonly kind: 'Now' };
  At(time: Date | bigint): { readonly kind: 'At'; readonly time: Date | bigint };
};

/** Metadata changes; an all-empty SetAttrs is a no-op. */
export interface SetAttrs {
  mode?: number;
  uid?: number;
  gid?: number;
  size?: Offset;
  atime?: SetTime;
  mtime?: SetTime;
}

/** What mknod makes. */
export type NodeKind =
  | { readonly kind: 'Fifo' }
  | { readonly kind: 'Socket' }
  | { readonly kind: 'BlockDevice'; readonly major: number; readonly minor: number }
  | { readonly kind: 'CharDevice'; readonly major: number; readonly minor: number };
export declare const NodeKind: {
  readonly Fifo: { readonly kind: 'Fifo' };
  readonly Socket: { readonly kind: 'Socket' };
  BlockDevice(major: number, minor: number): NodeKind;
  BlockDevice(dev: { major: number; minor: number }): NodeKind;
  CharDevice(major: number, minor: number): NodeKind;
  CharDevice(dev: { major: number; minor: number }): NodeKind;
};

/** Options of file.readable(). */
export interface ReadableOptions extends CallOptions {
  /** First offset (default 0). */
  start?: Offset;
  /** End offset, exclusive (default: end of file). */
  end?: Offset;
  /** Bytes per read_at (default: the session's maxReadChunk, one round trip each). */
  chunkSize?: number;
  /** Chunks read ahead of the consumer (default 2). */
  highWaterMark?: number;
}
/** Options of file.writable(). */
export interface WritableOptions extends CallOptions {
  /** First offset (default 0). */
  start?: Offset;
  /** Bytes queued before writer.ready waits (default 4 MiB). */
  highWaterMark?: number;
}

/** One identity, one session, safe to share across tasks. */
export declare class Client implements AsyncDisposable {
  private constructor();
  static connect(target: string, opts?: CallOptions): Promise<Client>;
  static connect_with(target: string, options: ConnectOptions, opts?: CallOptions): Promise<Client>;
  static connectWith(target: string, options: ConnectOptions, opts?: CallOptions): Promise<Client>;
  /** Whether close() was called. */
  readonly closed: boolean;
  capabilities(): Capabilities;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;

  read(path: PathLike, opts?: CallOptions): Promise<Buffer>;
  read_range(path: PathLike, offset: Offset, len: number, opts?: CallOptions): Promise<Buffer>;
  readRange(path: PathLike, offset: Offset, len: number, opts?: CallOptions): Promise<Buffer>;
  write(path: PathLike, data: Data, opts?: CallOptions): Promise<void>;
  /** Returns the offset the data landed at. */
  append(path: PathLike, data: Data, opts?: CallOptions): Promise<bigint>;
  stat(path: PathLike, opts?: CallOptions): Promise<Metadata>;
  metadata(path: PathLike, opts?: CallOptions): Promise<Metadata>;
  canonicalize(path: PathLike, opts?: CallOptions): Promise<Buffer>;
  exists(path: PathLike, opts?: CallOptions): Promise<boolean>;
  set_attr(path: PathLike, attrs: SetAttrs, opts?: CallOptions): Promise<Metadata>;
  setAttr(path: PathLike, attrs: SetAttrs, opts?: CallOptions): Promise<Metadata>;
  chmod(path: PathLike, mode: number, opts?: CallOptions): Promise<Metadata>;
  chown(path: PathLike, uid: number | undefined | null, gid: number | undefined | null, opts?: CallOptions): Promise<Metadata>;
  truncate(path: PathLike, size: Offset, opts?: CallOptions): Promise<Metadata>;
  set_times(path: PathLike, atime: SetTime | undefined | null, mtime: SetTime | undefined | null, opts?: CallOptions): Promise<Metadata>;
  setTimes(path: PathLike, atime: SetTime | undefined | null, mtime: SetTime | undefined | null, opts?: CallOptions): Promise<Metadata>;
  statfs(opts?: CallOptions): Promise<StatFs>;
  sync(opts?: CallOptions): Promise<void>;
  create_dir(path: PathLike, mode?: number, opts?: CallOptions): Promise<Metadata>;
  createDir(path: PathLike, mode?: number, opts?: CallOptions): Promise<Metadata>;
  create_dir_all(path: PathLike, mode?: number, opts?: CallOptions): Promise<void>;
  createDirAll(path: PathLike, mode?: number, opts?: CallOptions): Promise<void>;
  remove_file(path: PathLike, opts?: CallOptions): Promise<void>;
  removeFile(path: PathLike, opts?: CallOptions): Promise<void>;
  remove_dir(path: PathLike, opts?: CallOptions): Promise<void>;
  removeDir(path: PathLike, opts?: CallOptions): Promise<void>;
  remove_dir_all(path: PathLike, opts?: CallOptions): Promise<void>;
  removeDirAll(path: PathLike, opts?: CallOptions): Promise<void>;
  rename(from: PathLike, to: PathLike, opts?: CallOptions): Promise<void>;
  hard_link(original: PathLike, link: PathLike, opts?: CallOptions): Promise<Metadata>;
  hardLink(original: PathLike, link: PathLike, opts?: CallOptions): Promise<Metadata>;
  /** `target` is stored verbatim. */
  symlink(target: PathLike, link_path: PathLike, opts?: CallOptions): Promise<Metadata>;
  /** The raw symlink target. */
  read_link(path: PathLike, opts?: CallOptions): Promise<Buffer>;
  readLink(path: PathLike, opts?: CallOptions): Promise<Buffer>;
  mknod(path: PathLike, kind: NodeKind | NodeKind['kind'], mode?: number, opts?: CallOptions): Promise<Metadata>;
  read_dir(path: PathLike, opts?: CallOptions): Promise<DirEntry[]>;
  readDir(path: PathLike, opts?: CallOptions): Promise<DirEntry[]>;
  open_dir(path: PathLike, opts?: CallOptions): Promise<Dir>;
  openDir(path: PathLike, opts?: CallOptions): Promise<Dir>;
  /** Without options the file opens read-only. */
  open(path: PathLike, options?: OpenOptions | OpenOptionsInit, opts?: CallOptions): Promise<File>;
  /** Read-write, create, truncate, mode 0o644. */
  create(path: PathLike, opts?: CallOptions): Promise<File>;
}

/** An open file: all I/O is positioned; usable from many tasks at once. */
export declare class File implements AsyncDisposable {
  private constructor();
  /** The path (or name) it was opened by. */
  readonly path: PathLike | Name;
  readonly closed: boolean;
  /** Up to len bytes; a short result is end of file. */
  read_at(offset: Offset, len: number, opts?: CallOptions): Promise<Buffer>;
  readAt(offset: Offset, len: number, opts?: CallOptions): Promise<Buffer>;
  /**
   * Up to buffer.byteLength bytes at offset, written straight into buffer
   * (no new allocation; large reads are pipelined); resolves with the count,
   * fewer meaning end of file. Do not touch buffer until the promise settles.
   */
  read_into(offset: Offset, buffer: ArrayBufferView, opts?: CallOptions): Promise<number>;
  readInto(offset: Offset, buffer: ArrayBufferView, opts?: CallOptions): Promise<number>;
  /** All of data (chunked internally). The buffer is sent without a copy: do not change it until the promise settles. */
  write_at(offset: Offset, data: Data, opts?: CallOptions): Promise<void>;
  writeAt(offset: Offset, data: Data, opts?: CallOptions): Promise<void>;
  metadata(opts?: CallOptions): Promise<Metadata>;
  set_len(size: Offset, opts?: CallOptions): Promise<void>;
  setLen(size: Offset, opts?: CallOptions): Promise<void>;
  set_attr(attrs: SetAttrs, opts?: CallOptions): Promise<Metadata>;
  setAttr(attrs: SetAttrs, opts?: CallOptions): Promise<Metadata>;
  sync_all(opts?: CallOptions): Promise<void>;
  syncAll(opts?: CallOptions): Promise<void>;
  sync_data(opts?: CallOptions): Promise<void>;
  syncData(opts?: CallOptions): Promise<void>;
  /** Idempotent; never hangs. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
  /** A pull-based ReadableStream: reads only as fast as the consumer takes chunks. */
  readable(options?: ReadableOptions): ReadableStream<Uint8Array>;
  /** A WritableStream that writes each chunk at the next offset, awaiting it (backpressure). */
  writable(options?: WritableOptions): WritableStream<Uint8Array | string>;
}

/** A pull-based listing cursor plus openat-style child operations. */
export declare class Dir implements AsyncDisposable, AsyncIterable<DirEntry> {
  private constructor();
  readonly path: PathLike | Name;
  readonly closed: boolean;
  /** Directory order; an empty array means the end. Without max, one server batch. */
  next_batch(max?: number | null, opts?: CallOptions): Promise<DirEntry[]>;
  nextBatch(max?: number | null, opts?: CallOptions): Promise<DirEntry[]>;
  rewind(opts?: CallOptions): Promise<void>;
  metadata(opts?: CallOptions): Promise<Metadata>;
  set_attr(attrs: SetAttrs, opts?: CallOptions): Promise<Metadata>;
  setAttr(attrs: SetAttrs, opts?: CallOptions): Promise<Metadata>;
  open_at(name: Name, options?: OpenOptions | OpenOptionsInit, opts?: CallOptions): Promise<File>;
  openAt(name: Name, options?: OpenOptions | OpenOptionsInit, opts?: CallOptions): Promise<File>;
  open_dir_at(name: Name, opts?: CallOptions): Promise<Dir>;
  openDirAt(name: Name, opts?: CallOptions): Promise<Dir>;
  /** Never follows symlinks. */
  metadata_at(name: Name, opts?: CallOptions): Promise<Metadata>;
  metadataAt(name: Name, opts?: CallOptions): Promise<Metadata>;
  set_attr_at(name: Name, attrs: SetAttrs, opts?: CallOptions): Promise<Metadata>;
  setAttrAt(name: Name, attrs: SetAttrs, opts?: CallOptions): Promise<Metadata>;
  create_dir_at(name: Name, mode?: number, opts?: CallOptions): Promise<Metadata>;
  createDirAt(name: Name, mode?: number, opts?: CallOptions): Promise<Metadata>;
  /** target is raw bytes, stored verbatim. */
  symlink_at(name: Name, target: Name, opts?: CallOptions): Promise<Metadata>;
  symlinkAt(name: Name, target: Name, opts?: CallOptions): Promise<Metadata>;
  link_at(original_dir: Dir, original_name: Name, new_name: Name, opts?: CallOptions): Promise<Metadata>;
  linkAt(original_dir: Dir, original_name: Name, new_name: Name, opts?: CallOptions): Promise<Metadata>;
  mknod_at(name: Name, kind: NodeKind | NodeKind['kind'], mode?: number, opts?: CallOptions): Promise<Metadata>;
  mknodAt(name: Name, kind: NodeKind | NodeKind['kind'], mode?: number, opts?: CallOptions): Promise<Metadata>;
  remove_file_at(name: Name, opts?: CallOptions): Promise<void>;
  removeFileAt(name: Name, opts?: CallOptions): Promise<void>;
  remove_dir_at(name: Name, opts?: CallOptions): Promise<void>;
  removeDirAt(name: Name, opts?: CallOptions): Promise<void>;
  /** new_dir may be this directory. */
  rename_at(old_name: Name, new_dir: Dir, new_name: Name, opts?: CallOptions): Promise<void>;
  renameAt(old_name: Name, new_dir: Dir, new_name: Name, opts?: CallOptions): Promise<void>;
  read_link_at(name: Name, opts?: CallOptions): Promise<Buffer>;
  readLinkAt(name: Name, opts?: CallOptions): Promise<Buffer>;
  /** Idempotent; never hangs. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
  /** The remaining entries, batch by batch. */
  entries(opts?: CallOptions): AsyncGenerator<DirEntry, void, undefined>;
  [Symbol.asyncIterator](): AsyncGenerator<DirEntry, void, undefined>;
}

/** The seed's error variants. */
export type ErrorVariant =
  | 'NotFound'
  | 'PermissionDenied'
  | 'NotPermitted'
  | 'AlreadyExists'
  | 'NotADirectory'
  | 'IsADirectory'
  | 'DirectoryNotEmpty'
  | 'NameTooLong'
  | 'InvalidArgument'
  | 'TooManySymlinks'
  | 'Closed'
  | 'ConnectFailed'
  | 'Io'
  | 'Protocol';

/** Base class of every ninefold error; shaped like Node's fs errors. */
export declare class NinefoldError extends Error {
  /** POSIX name: 'ENOENT', 'EACCES', ... */
  readonly code: string;
  /** Negative errno, as in Node's fs errors (-2 for ENOENT). */
  readonly errno: number;
  /** The operation: 'stat', 'read_at', ... */
  readonly syscall?: string;
  /** The path (or child name) the operation was given. */
  readonly path?: PathLike | Name;
  /** The second path of rename / hard_link / symlink. */
  readonly dest?: PathLike | Name;
  /** The seed's variant name. */
  readonly variant: ErrorVariant;
  static readonly NotFound: typeof NinefoldErrorNotFound;
  static readonly PermissionDenied: typeof NinefoldErrorPermissionDenied;
  static readonly NotPermitted: typeof NinefoldErrorNotPermitted;
  static readonly AlreadyExists: typeof NinefoldErrorAlreadyExists;
  static readonly NotADirectory: typeof NinefoldErrorNotADirectory;
  static readonly IsADirectory: typeof NinefoldErrorIsADirectory;
  static readonly DirectoryNotEmpty: typeof NinefoldErrorDirectoryNotEmpty;
  static readonly NameTooLong: typeof NinefoldErrorNameTooLong;
  static readonly InvalidArgument: typeof NinefoldErrorInvalidArgument;
  static readonly TooManySymlinks: typeof NinefoldErrorTooManySymlinks;
  static readonly Closed: typeof NinefoldErrorClosed;
  static readonly ConnectFailed: typeof NinefoldErrorConnectFailed;
  static readonly Io: typeof NinefoldErrorIo;
  static readonly Protocol: typeof NinefoldErrorProtocol;
}
/** ENOENT */ export declare class NinefoldErrorNotFound extends NinefoldError {}
/** EACCES */ export declare class NinefoldErrorPermissionDenied extends NinefoldError {}
/** EPERM */ export declare class NinefoldErrorNotPermitted extends NinefoldError {}
/** EEXIST */ export declare class NinefoldErrorAlreadyExists extends NinefoldError {}
/** ENOTDIR */ export declare class NinefoldErrorNotADirectory extends NinefoldError {}
/** EISDIR */ export declare class NinefoldErrorIsADirectory extends NinefoldError {}
/** ENOTEMPTY */ export declare class NinefoldErrorDirectoryNotEmpty extends NinefoldError {}
/** ENAMETOOLONG */ export declare class NinefoldErrorNameTooLong extends NinefoldError {}
/** EINVAL */ export declare class NinefoldErrorInvalidArgument extends NinefoldError {}
/** ELOOP */ export declare class NinefoldErrorTooManySymlinks extends NinefoldError {}
/** EBADF: a handle or client used after close(). */ export declare class NinefoldErrorClosed extends NinefoldError {}
/** EIO: the initial connection or attach failed. */ export declare class NinefoldErrorConnectFailed extends NinefoldError {}
/** Any other server errno, kept verbatim in code/errno. */ export declare class NinefoldErrorIo extends NinefoldError {}
/** EIO: wire-level failure. */ export declare class NinefoldErrorProtocol extends NinefoldError {}

/** What an aborted call rejects with: name 'AbortError', code 'ABORT_ERR', cause = signal.reason. */
export declare class AbortError extends Error {
  readonly code: 'ABORT_ERR';
}

export { createFs, connectFs, NinefoldFs, Stats, Dirent } from './fs';
