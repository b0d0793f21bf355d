// ESM entry of the node:fs/promises-shaped adapter.
import cjs from './fs.js';

export const { createFs, connectFs, Stats, Dirent } = cjs;
export default cjs;
