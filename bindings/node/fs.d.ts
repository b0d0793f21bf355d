// Types of the node:fs/promises-shaped adapter (`ninefold/fs`).
/// <reference types="node" />
import type { Client, ConnectOptions, PathLike } from './index';

export interface FsCallOptions {
  signal?: AbortSignal;
}
export type Encoding = BufferEncoding | 'buffer';

/** A node:fs Stats lookalike. */
export declare class Stats<T extends number | bigint = number> {
  private constructor();
  dev: T;
  ino: T;
  mode: T;
  nlink: T;
  uid: T;
  gid: T;
  rdev: T;
  size: T;
  blksize: T;
  blocks: T;
  atimeMs: T;
  mtimeMs: T;
  ctimeMs: T;
  birthtimeMs: T;
  atime: Date;
  mtime: Date;
  ctime: Date;
  birthtime: Date;
  atimeNs?: bigint;
  mtimeNs?: bigint;
  ctimeNs?: bigint;
  birthtimeNs?: bigint;
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
}

/** A node:fs Dirent lookalike. */
export declare class Dirent {
  private constructor();
  name: string;
  parentPath: string;
  path: string;
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
}

/** The node:fs/promises-shaped functions over one Client. */
export interface NinefoldFs {
  readFile(path: PathLike, options?: ({ encoding?: null | 'buffer' } & FsCallOptions) | null): Promise<Buffer>;
  readFile(path: PathLike, options: ({ encoding: BufferEncoding } & FsCallOptions) | BufferEncoding): Promise<string>;
  writeFile(
    path: PathLike,
    data: string | Uint8Array,
    options?: ({ encoding?: BufferEncoding; mode?: number; flag?: 'w' | 'wx' | 'a' } & FsCallOptions) | BufferEncoding,
  ): Promise<void>;
  appendFile(path: PathLike, data: string | Uint8Array, options?: ({ encoding?: BufferEncoding } & FsCallOptions) | BufferEncoding): Promise<void>;
  readdir(path: string, options: { withFileTypes: true } & FsCallOptions): Promise<Dirent[]>;
  readdir(path: string, options: { encoding: 'buffer'; withFileTypes?: false } & FsCallOptions): Promise<Buffer[]>;
  readdir(path: string, options?: ({ withFileTypes?: false; encoding?: BufferEncoding } & FsCallOptions) | BufferEncoding): Promise<string[]>;
  stat(path: PathLike, options: { bigint: true } & FsCallOptions): Promise<Stats<bigint>>;
  stat(path: PathLike, options?: { bigint?: false } & FsCallOptions): Promise<Stats<number>>;
  lstat(path: PathLike, options: { bigint: true } & FsCallOptions): Promise<Stats<bigint>>;
  lstat(path: PathLike, options?: { bigint?: false } & FsCallOptions): Promise<Stats<number>>;
  mkdir(path: string, options?: ({ recursive?: boolean; mode?: number } & FsCallOptions) | number): Promise<string | undefined>;
  rm(path: PathLike, options?: { recursive?: boolean; force?: boolean } & FsCallOptions): Promise<void>;
  rmdir(path: PathLike, options?: FsCallOptions): Promise<void>;
  unlink(path: PathLike): Promise<void>;
  rename(from: PathLike, to: PathLike): Promise<void>;
  access(path: PathLike): Promise<void>;
  readlink(path: PathLike, options?: ({ encoding?: BufferEncoding } & FsCallOptions) | BufferEncoding): Promise<string>;
  symlink(target: PathLike, path: PathLike): Promise<void>;
  chmod(path: PathLike, mode: number): Promise<void>;
  truncate(path: PathLike, len?: number | bigint): Promise<void>;
  copyFile(src: PathLike, dest: PathLike): Promise<void>;
}

export declare function createFs(client: Client): NinefoldFs;
export declare function connectFs(
  target: string,
  options?: ConnectOptions,
): Promise<NinefoldFs & AsyncDisposable & { client: Client }>;
