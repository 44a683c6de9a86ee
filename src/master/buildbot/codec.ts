/**
 * The frames of Buildbot's msgpack worker protocol (`msgpack_experimental_v7`):
 * one msgpack map per binary WebSocket frame, with an `op` and the sender's
 * own `seq_number`. Each side numbers its requests from 0; an answer is an
 * `op: response` carrying the request's number (and `is_exception` when the
 * request failed). Text and bytes stay distinct: msgpack `str` decodes to a
 * string, `bin` to a Buffer.
 */
import { decode, encode } from '@msgpack/msgpack';
import { ProtocolError } from '../../protocol/index.js';

/** One decoded frame: its op, its sequence number and whatever else the op carries. */
export interface BuildbotMessage {
  op: string;
  seq_number: number;
  [field: string]: unknown;
}

/** Encodes a message as the one msgpack map a binary frame carries. */
export function encodeMessage(message: BuildbotMessage): Buffer {
  const bytes = encode(message, { ignoreUndefined: true });
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Decodes one frame; throws a ProtocolError naming what is wrong (a text
 * frame, not msgpack, not a map, no `op`, no usable `seq_number`). Binary
 * values come back as Buffers.
 */
export function decodeMessage(data: Buffer, isBinary: boolean): BuildbotMessage {
  if (!isBinary) throw new ProtocolError('a text frame: this protocol sends one msgpack map per binary frame');
  let value: unknown;
  try {
    value = decode(data);
  } catch (error) {
    throw new ProtocolError(`a frame that is not msgpack: ${(error as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array) {
    throw new ProtocolError('a frame that is not a msgpack map');
  }
  const message = toBuffers(value) as Record<string, unknown>;
  if (typeof message.op !== 'string' || message.op === '') throw new ProtocolError('a frame without a string `op`');
  const seq = message.seq_number;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
    throw new ProtocolError(`a frame (op ${message.op}) without a non-negative integer \`seq_number\``);
  }
  return message as BuildbotMessage;
}

/** msgpack-js gives `bin` as Uint8Array views; the master handles Buffers. */
function toBuffers(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (Array.isArray(value)) return value.map(toBuffers);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      // Own-property writes only: a `__proto__` key must not reach the prototype.
      Object.defineProperty(out, key, { value: toBuffers(item), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}
