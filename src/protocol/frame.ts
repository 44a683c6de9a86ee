/**
 * Encoding and decoding of protocol frames.
 *
 * Text frame: one JSON control message. Binary frame: a 4-byte big-endian
 * header length, the header as JSON (see `OutputHeader`), then the raw output
 * bytes. Decoders throw `ProtocolError`, whose message names what was wrong;
 * the receiving side logs it and closes that one connection.
 */
import type { z } from 'zod';
import {
  MAX_CONTROL_FRAME_BYTES,
  MAX_FRAME_BYTES,
  MAX_MASTER_FRAME_BYTES,
  MAX_OUTPUT_CHUNK_BYTES,
  MasterMessage,
  OutputHeader,
  WorkerMessage,
} from './messages.js';

/** A frame that breaks the protocol; the connection that sent it is closed. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

/** One output chunk, as carried by a binary frame. */
export interface OutputFrame {
  header: OutputHeader;
  data: Buffer;
}

/** Serialises a control message as the text of a frame. */
export function encodeControl(message: WorkerMessage | MasterMessage): string {
  return JSON.stringify(message);
}

/** Serialises an output chunk as a binary frame. */
export function encodeOutput(header: OutputHeader, data: Buffer): Buffer {
  const head = Buffer.from(JSON.stringify(header));
  const frame = Buffer.allocUnsafe(4 + head.length + data.length);
  frame.writeUInt32BE(head.length, 0);
  head.copy(frame, 4);
  data.copy(frame, 4 + head.length);
  return frame;
}

function parseControl<S extends z.ZodType>(schema: S, text: string, limit: number): z.infer<S> {
  if (Buffer.byteLength(text) > limit) {
    throw new ProtocolError(`control frame of ${Buffer.byteLength(text)} bytes exceeds ${limit}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ProtocolError(`control frame is not JSON: ${JSON.stringify(text.slice(0, 80))}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? issue.path.join('.') : '(message)';
    throw new ProtocolError(`invalid message: ${where}: ${issue.message}`);
  }
  return parsed.data;
}

/** Parses and validates a control message received by the master. */
export function decodeWorkerMessage(text: string): WorkerMessage {
  return parseControl(WorkerMessage, text, MAX_CONTROL_FRAME_BYTES);
}

/** Parses and validates a control message received by the worker. */
export function decodeMasterMessage(text: string): MasterMessage {
  return parseControl(MasterMessage, text, MAX_MASTER_FRAME_BYTES);
}

/** Parses and validates a binary output frame received by the master. */
export function decodeOutput(frame: Buffer): OutputFrame {
  if (frame.length > MAX_FRAME_BYTES) {
    throw new ProtocolError(`binary frame of ${frame.length} bytes exceeds ${MAX_FRAME_BYTES}`);
  }
  if (frame.length < 4) throw new ProtocolError('binary frame shorter than its length prefix');
  const headLength = frame.readUInt32BE(0);
  if (headLength > 1024 || 4 + headLength > frame.length) {
    throw new ProtocolError(`binary frame header length ${headLength} is out of range`);
  }
  const header = parseControl(OutputHeader, frame.toString('utf8', 4, 4 + headLength), MAX_CONTROL_FRAME_BYTES);
  const data = frame.subarray(4 + headLength);
  if (data.length > MAX_OUTPUT_CHUNK_BYTES) {
    throw new ProtocolError(`output chunk of ${data.length} bytes exceeds ${MAX_OUTPUT_CHUNK_BYTES}`);
  }
  return { header, data };
}
