'use strict';
// ninefold: a 9P2000.L client for Node.js over the Rust core
// (ninefold-client), through a napi-rs addon. See README.md.

const { Client, File, Dir } = require('./lib/handles');
const { NinefoldError, AbortError, classes } = require('./lib/errors');
const R = require('./lib/records');
const { createFs, connectFs } = require('./fs');

module.exports = {
  Client,
  File,
  Dir,
  Metadata: R.Metadata,
  DirEntry: R.DirEntry,
  StatFs: R.StatFs,
  Capabilities: R.Capabilities,
  FileType: R.FileType,
  SetTime: R.SetTime,
  NodeKind: R.NodeKind,
  openOptions: R.openOptions,
  isFile: R.isFile,
  isDir: R.isDir,
  isSymlink: R.isSymlink,
  NinefoldError,
  AbortError,
  createFs,
  connectFs,
};
for (const [v, cls] of Object.entries(classes)) module.exports[`NinefoldError${v}`] = cls;
