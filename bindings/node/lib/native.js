'use strict';
// Loads the addon: $NINEFOLD_NODE_ADDON if set, else ninefold.node beside
// package.json (built by scripts/build.js at install time).
const path = require('node:path');

const file = process.env.NINEFOLD_NODE_ADDON || path.join(__dirname, '..', 'ninefold.node');
let native;
try {
  native = require(file);
} catch (e) {
  const err = new Error(
    `ninefold: cannot load the native addon ${file} (${e && e.message}); ` +
      'build it with `npm run build` (needs a Rust toolchain)',
  );
  err.cause = e;
  throw err;
}
module.exports = native;
