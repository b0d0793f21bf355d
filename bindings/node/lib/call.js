'use strict';
// One wrapper around every native call: AbortSignal plumbing and error
// conversion.

const native = require('./native');
const { AbortError, convert, invalid } = require('./errors');

function abortError(signal) {
  return new AbortError(undefined, signal.reason !== undefined ? { cause: signal.reason } : undefined);
}

/** The addon threw while converting an argument: an InvalidArgument. */
function badArgument(e, syscall, path) {
  const coded = convert(e, syscall, path);
  if (coded !== e) return coded;
  const msg = e && typeof e.message === 'string' ? e.message : String(e);
  const err = invalid(syscall, msg, path);
  err.cause = e;
  return err;
}

function signalOf(opts, syscall) {
  if (opts === undefined || opts === null) return undefined;
  if (typeof opts !== 'object') throw invalid(syscall, 'call options must be an object like { signal }');
  const s = opts.signal;
  if (s === undefined || s === null) return undefined;
  if (typeof s.aborted !== 'boolean' || typeof s.addEventListener !== 'function') {
    throw invalid(syscall, 'signal must be an AbortSignal');
  }
  return s;
}

/**
 * Runs `fn(cancelId)` (a native call returning a Promise). With a signal,
 * a cancellation token is made and fired on abort: the addon then drops
 * the Rust future (flushing the request) and the call rejects with an
 * AbortError.
 */
function invoke(opts, syscall, path, dest, fn) {
  const signal = signalOf(opts, syscall);
  if (signal === undefined) {
    let p;
    try {
      p = fn(undefined);
    } catch (e) {
      throw badArgument(e, syscall, path);
    }
    return p.catch((e) => {
      throw convert(e, syscall, path, dest);
    });
  }
  if (signal.aborted) return Promise.reject(abortError(signal));
  const id = native.cancelTokenNew();
  const onAbort = () => native.cancelTokenFire(id);
  signal.addEventListener('abort', onAbort, { once: true });
  const done = () => {
    signal.removeEventListener('abort', onAbort);
    native.cancelTokenDrop(id);
  };
  let p;
  try {
    p = fn(id);
  } catch (e) {
    done();
    throw badArgument(e, syscall, path);
  }
  return p.then(
    (v) => {
      done();
      return v;
    },
    (e) => {
      done();
      throw convert(e, syscall, path, dest, signal);
    },
  );
}

module.exports = { invoke, abortError, signalOf };
