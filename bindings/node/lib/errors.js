'use strict';
// The error classes: one NinefoldError subclass per variant of the seed's
// error table, shaped like Node's fs errors (code, errno, syscall, path).

const SEP = '\u0001';

/** Base class of every error a ninefold call rejects with. */
class NinefoldError extends Error {
  constructor(message, fields = {}) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    /** POSIX name: 'ENOENT', ... */
    this.code = fields.code ?? 'EIO';
    /** Negative errno, as in Node's fs errors (-2 for ENOENT). */
    this.errno = fields.errno ?? -5;
    /** The operation that failed ('stat', 'read_at', ...). */
    if (fields.syscall !== undefined) this.syscall = fields.syscall;
    /** The path the operation was given, when it has one. */
    if (fields.path !== undefined) this.path = fields.path;
    /** The second path of rename / hard_link / symlink. */
    if (fields.dest !== undefined) this.dest = fields.dest;
    /** The seed's variant name ('NotFound', ...). */
    this.variant = fields.variant ?? 'Io';
  }
  get name() {
    return this.constructor.name;
  }
}

const VARIANTS = [
  'NotFound',
  'PermissionDenied',
  'NotPermitted',
  'AlreadyExists',
  'NotADirectory',
  'IsADirectory',
  'DirectoryNotEmpty',
  'NameTooLong',
  'InvalidArgument',
  'TooManySymlinks',
  'Closed',
  'ConnectFailed',
  'Io',
  'Protocol',
];

const classes = {};
for (const v of VARIANTS) {
  const name = `NinefoldError${v}`;
  // A named class per variant, so `err.name` and stack traces say which.
  classes[v] = { [name]: class extends NinefoldError {} }[name];
  Object.defineProperty(NinefoldError, v, { value: classes[v], enumerable: true });
}

/** What an aborted call rejects with (like Node's own AbortError). */
class AbortError extends Error {
  constructor(message = 'The operation was aborted', options) {
    super(message, options);
    this.code = 'ABORT_ERR';
  }
  get name() {
    return 'AbortError';
  }
}

function quote(p) {
  if (p === undefined) return undefined;
  return typeof p === 'string' ? p : Buffer.from(p).toString('latin1');
}

/**
 * The typed error for a rejection of the native addon (anything else is
 * passed through). `ctx` is [syscall, path?, dest?].
 */
function convert(e, syscall, path, dest, signal) {
  const msg = e && typeof e.message === 'string' ? e.message : '';
  const parts = msg.split(SEP);
  if (parts.length < 4) return e;
  const [variant, code, errno, ...rest] = parts;
  const text = rest.join(SEP);
  if (variant === 'Aborted') {
    return new AbortError(undefined, signal && signal.reason !== undefined ? { cause: signal.reason } : undefined);
  }
  const Cls = classes[variant] ?? NinefoldError;
  let message = `${code}: ${text}, ${syscall}`;
  if (path !== undefined) message += ` '${quote(path)}'`;
  if (dest !== undefined) message += ` -> '${quote(dest)}'`;
  return new Cls(message, { code, errno: -Number(errno), syscall, path, dest, variant });
}

/** A client-side InvalidArgument (bad JavaScript value). */
function invalid(syscall, what, path) {
  return new classes.InvalidArgument(`EINVAL: ${what}, ${syscall}`, {
    code: 'EINVAL',
    errno: -22,
    syscall,
    path,
    variant: 'InvalidArgument',
  });
}

module.exports = { NinefoldError, AbortError, VARIANTS, classes, convert, invalid };
