/**
 * Encoding and decoding of protocol frames.
 *
 * Text frame: one JSON control message. Binary frame: a 4-byte big-endian
 * header length, the header as JSON, then raw bytes: step output (header
 * `OutputHeader`) or part of an uploaded file (header `UploadHeader`, which
 * carries `kind: 'upload'`; an output header has no `kind`). Decoders throw `ProtocolError`, whose message names what was wrong;
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
  UploadHeader,
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

/** Part of an uploaded file, as carried by a binary frame. */
export interface UploadFrame {
  header: UploadHeader;
  data: Buffer;
}

/** Any binary frame a worker sends. */
export type WorkerBinaryFrame = ({ type: 'output' } & OutputFrame) | ({ type: 'upload' } & UploadFrame);

/** Serialises a control message as the text of a frame. */
export function encodeControl(message: WorkerMessage | MasterMessage): string {
  return JSON.stringify(message);
}

/** Serialises an output chunk as a binary frame. */
export function encodeOutput(header: OutputHeader, data: Buffer): Buffer {
  return encodeBinary(header, data);
}

/** Serialises part of an uploaded file as a binary frame. */
export function encodeUpload(header: UploadHeader, data: Buffer): Buffer {
  return encodeBinary(header, data);
}

function encodeBinary(header: OutputHeader | UploadHeader, data: Buffer): Buffer {
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
  return validate(schema, json);
}

function validate<S extends z.ZodType>(schema: S, json: unknown): z.infer<S> {
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

/** Parses and validates a binary output frame (and only an output frame). */
export function decodeOutput(frame: Buffer): OutputFrame {
  const { head, data } = splitBinary(frame);
  return { header: parseControl(OutputHeader, head, MAX_CONTROL_FRAME_BYTES), data };
}

/** Parses and validates any binary frame a worker sends: output or upload, told apart by the header's `kind`. */
export function decodeWorkerBinary(frame: Buffer): WorkerBinaryFrame {
  const { head, data } = splitBinary(frame);
  let json: unknown;
  try {
    json = JSON.parse(head);
  } catch {
    throw new ProtocolError(`binary frame header is not JSON: ${JSON.stringify(head.slice(0, 80))}`);
  }
  if (typeof json === 'object' && json !== null && 'kind' in json) return { type: 'upload', header: validate(UploadHeader, json), data };
  return { type: 'output', header: validate(OutputHeader, json), data };
}

function splitBinary(frame: Buffer): { head: string; data: Buffer } {
  if (frame.length > MAX_FRAME_BYTES) {
    throw new ProtocolError(`binary frame of ${frame.length} bytes exceeds ${MAX_FRAME_BYTES}`);
  }
  if (frame.length < 4) throw new ProtocolError('binary frame shorter than its length prefix');
  const headLength = frame.readUInt32BE(0);
  if (headLength > 1024 || 4 + headLength > frame.length) {
    throw new ProtocolError(`binary frame header length ${headLength} is out of range`);
  }
  const head = frame.toString('utf8', 4, 4 + headLength);
  const data = frame.subarray(4 + headLength);
  if (data.length > MAX_OUTPUT_CHUNK_BYTES) {
    throw new ProtocolError(`binary frame payload of ${data.length} bytes exceeds ${MAX_OUTPUT_CHUNK_BYTES}`);
  }
  return { head, data };
}
