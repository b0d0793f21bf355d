// ESM entry: the same objects as the CommonJS entry (one copy of the
// classes, so instanceof works across both).
import cjs from './index.js';

export const {
  Client,
  File,
  Dir,
  Metadata,
  DirEntry,
  StatFs,
  Capabilities,
  FileType,
  SetTime,
  NodeKind,
  openOptions,
  isFile,
  isDir,
  isSymlink,
  NinefoldError,
  AbortError,
  NinefoldErrorNotFound,
  NinefoldErrorPermissionDenied,
  NinefoldErrorNotPermitted,
  NinefoldErrorAlreadyExists,
  NinefoldErrorNotADirectory,
  NinefoldErrorIsADirectory,
  NinefoldErrorDirectoryNotEmpty,
  NinefoldErrorNameTooLong,
  NinefoldErrorInvalidArgument,
  NinefoldErrorTooManySymlinks,
  NinefoldErrorClosed,
  NinefoldErrorConnectFailed,
  NinefoldErrorIo,
  NinefoldErrorProtocol,
  createFs,
  connectFs,
} = cjs;
export default cjs;
