'use strict';
// Web Streams over a File's positioned I/O. Both are driven by the stream
// machinery's own backpressure: the readable reads a chunk only when its
// queue is below highWaterMark (a slow consumer stops the reads), the
// writable awaits each write_at before taking the next chunk.

const { invalid } = require('./errors');
const { signalOf, abortError } = require('./call');

function position(v, what) {
  if (v === undefined) return undefined;
  if (typeof v === 'bigint' && v >= 0n) return v;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  throw invalid('readable', `${what} must be a non-negative integer`);
}

/**
 * `chunk` is the default chunk size: the session's max_read_chunk, the most
 * one Tread carries (a larger chunk costs a second round trip per chunk).
 */
function readable(file, options = {}, chunk) {
  const start = position(options.start, 'start') ?? 0n;
  const end = position(options.end, 'end'); // exclusive
  const chunkSize = options.chunkSize ?? options.chunk_size ?? chunk;
  if (!Number.isSafeInteger(chunkSize) || chunkSize <= 0) throw invalid('readable', 'chunkSize must be a positive integer');
  const hwm = options.highWaterMark ?? options.high_water_mark ?? 2;
  const signal = signalOf(options, 'readable');
  let pos = start;
  let controllerAbort;
  return new ReadableStream(
    {
      start(controller) {
        if (signal) {
          controllerAbort = () => controller.error(abortError(signal));
          if (signal.aborted) controllerAbort();
          else signal.addEventListener('abort', controllerAbort, { once: true });
        }
      },
      async pull(controller) {
        let want = chunkSize;
        if (end !== undefined) {
          const left = end - pos;
          if (left <= 0n) {
            controller.close();
            return;
          }
          if (left < BigInt(want)) want = Number(left);
        }
        const data = await file.read_at(pos, want, signal ? { signal } : undefined);
        if (data.length === 0) {
          if (signal) signal.removeEventListener('abort', controllerAbort);
          controller.close();
          return;
        }
        pos += BigInt(data.length);
        controller.enqueue(data);
      },
      cancel() {
        if (signal) signal.removeEventListener('abort', controllerAbort);
      },
    },
    new CountQueuingStrategy({ highWaterMark: hwm }),
  );
}

function writable(file, options = {}) {
  const start = position(options.start, 'start') ?? 0n;
  const hwm = options.highWaterMark ?? options.high_water_mark ?? 4 << 20;
  const signal = signalOf(options, 'writable');
  let pos = start;
  return new WritableStream(
    {
      start(controller) {
        if (signal) {
          if (signal.aborted) controller.error(abortError(signal));
          else signal.addEventListener('abort', () => controller.error(abortError(signal)), { once: true });
        }
      },
      async write(chunk) {
        if (typeof chunk === 'string') chunk = new TextEncoder().encode(chunk);
        else if (!(chunk instanceof Uint8Array)) {
          if (ArrayBuffer.isView(chunk)) chunk = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
          else throw invalid('writable', 'chunks must be Uint8Array, Buffer or string');
        }
        await file.write_at(pos, chunk, signal ? { signal } : undefined);
        pos += BigInt(chunk.length);
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: hwm }),
  );
}

module.exports = { readable, writable };
