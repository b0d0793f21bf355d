#!/usr/bin/env node
// Builds the native addon from this checkout's Rust sources and copies it
// to ninefold.node beside package.json.
//
//   node scripts/build.js               release build
//   node scripts/build.js --debug       debug build
//   node scripts/build.js --if-missing  do nothing when ninefold.node exists
//                                       (a packed tarball ships it prebuilt)
//
// Uses `cargo` from PATH (or $CARGO) and honours CARGO_TARGET_DIR.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const pkgDir = path.resolve(__dirname, '..');
const out = path.join(pkgDir, 'ninefold.node');
const args = process.argv.slice(2);
const debug = args.includes('--debug');

if (args.includes('--if-missing') && fs.existsSync(out)) {
  console.log(`ninefold: using the prebuilt ${path.relative(process.cwd(), out) || out}`);
  process.exit(0);
}

const manifest = path.join(pkgDir, 'Cargo.toml');
if (!fs.existsSync(manifest)) {
  console.error('ninefold: no prebuilt ninefold.node and no Rust sources to build it from');
  process.exit(1);
}
const cargo = process.env.CARGO || 'cargo';
const cargoArgs = ['build', '--manifest-path', manifest, '-p', 'ninefold-node'];
if (!debug) cargoArgs.push('--release');
console.log(`ninefold: ${cargo} ${cargoArgs.join(' ')}`);
const r = spawnSync(cargo, cargoArgs, { stdio: 'inherit' });
if (r.error) {
  console.error(`ninefold: cannot run ${cargo} (${r.error.message}); install a Rust toolchain (rustup)`);
  process.exit(1);
}
if (r.status !== 0) process.exit(r.status ?? 1);

// The target directory: CARGO_TARGET_DIR, else the workspace's (cargo
// metadata knows it).
let targetDir = process.env.CARGO_TARGET_DIR;
if (!targetDir) {
  const m = spawnSync(cargo, ['metadata', '--format-version', '1', '--no-deps', '--manifest-path', manifest], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (m.status !== 0) {
    console.error('ninefold: cargo metadata failed');
    process.exit(1);
  }
  targetDir = JSON.parse(m.stdout).target_directory;
}
const lib = { darwin: 'libninefold_node.dylib', win32: 'ninefold_node.dll' }[process.platform] ?? 'libninefold_node.so';
const built = path.join(path.resolve(pkgDir, targetDir), debug ? 'debug' : 'release', lib);
// Copy through a temporary name so a running process never maps a
// half-written file.
const tmp = `${out}.${process.pid}.tmp`;
fs.copyFileSync(built, tmp);
fs.renameSync(tmp, out);
console.log(`ninefold: built ${out}`);
