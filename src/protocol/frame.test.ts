import { describe, expect, it } from 'vitest';
import { ProtocolError, decodeMasterMessage, decodeOutput, decodeWorkerMessage, encodeControl, encodeOutput } from './frame.js';
import { MAX_CONTROL_FRAME_BYTES, MAX_OUTPUT_CHUNK_BYTES, PROTOCOL_VERSION } from './messages.js';

const hello = {
  type: 'hello' as const,
  protocol: PROTOCOL_VERSION,
  name: 'linux-1',
  secret: 's',
  info: { os: 'linux', arch: 'x86_64', cpus: 2, hostname: 'h', agent_version: '0.1.0', dimensions: { libc: 'glibc' } },
  held: [{ step_id: 3, last_seq: 7, finished: { exit_code: 0, signal: null, duration_ms: 5, ended_by: null, spawn_error: null } }],
};

describe('control frames', () => {
  it('round-trip', () => {
    expect(decodeWorkerMessage(encodeControl(hello))).toEqual(hello);
    const ack = { type: 'ack' as const, step_id: 1, seq: 2 };
    expect(decodeMasterMessage(encodeControl(ack))).toEqual(ack);
  });

  it('name what is wrong', () => {
    expect(() => decodeWorkerMessage('{"type":"hello"')).toThrow(/control frame is not JSON/);
    expect(() => decodeWorkerMessage('{"type":"nope"}')).toThrow(ProtocolError);
    expect(() => decodeWorkerMessage(JSON.stringify({ ...hello, held: [{ step_id: -1, last_seq: 0 }] }))).toThrow(/held\.0\.step_id/);
    expect(() => decodeWorkerMessage(' '.repeat(MAX_CONTROL_FRAME_BYTES + 1))).toThrow(/exceeds/);
  });

  it('a worker cannot send a master-only message', () => {
    expect(() => decodeWorkerMessage(encodeControl({ type: 'ack', step_id: 1, seq: 1 }))).toThrow(ProtocolError);
  });
});

describe('output frames', () => {
  it('carry raw bytes exactly', () => {
    const data = Buffer.from([0xff, 0x00, 0x1b, 0x5b, 0x33, 0x31, 0x6d, 0x0a]);
    const frame = encodeOutput({ step_id: 9, seq: 4, stream: 'stderr' }, data);
    const decoded = decodeOutput(frame);
    expect(decoded.header).toEqual({ step_id: 9, seq: 4, stream: 'stderr' });
    expect(decoded.data.equals(data)).toBe(true);
  });

  it('refuse bad lengths, bad headers and oversized payloads', () => {
    expect(() => decodeOutput(Buffer.from([0, 0]))).toThrow(/shorter/);
    const lying = Buffer.alloc(8);
    lying.writeUInt32BE(1000, 0);
    expect(() => decodeOutput(lying)).toThrow(/out of range/);
    expect(() => decodeOutput(encodeOutput({ step_id: 1, seq: 0, stream: 'stdout' } as never, Buffer.alloc(1)))).toThrow(/seq/);
    expect(() => decodeOutput(encodeOutput({ step_id: 1, seq: 1, stream: 'stdout' }, Buffer.alloc(MAX_OUTPUT_CHUNK_BYTES + 1)))).toThrow(/exceeds/);
  });
});
