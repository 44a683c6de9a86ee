import { describe, expect, it } from 'vitest';
import {
  ProtocolError,
  decodeMasterMessage,
  decodeOutput,
  decodeWorkerBinary,
  decodeWorkerMessage,
  encodeControl,
  encodeOutput,
  encodeUpload,
} from './frame.js';
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

describe('upload frames and messages', () => {
  it('are told apart from output frames by the header', () => {
    const data = Buffer.from([0x00, 0xff, 0x7f]);
    const upload = decodeWorkerBinary(encodeUpload({ kind: 'upload', upload_id: 3, offset: 65536 }, data));
    expect(upload).toEqual({ type: 'upload', header: { kind: 'upload', upload_id: 3, offset: 65536 }, data });
    const output = decodeWorkerBinary(encodeOutput({ step_id: 9, seq: 4, stream: 'stdout' }, data));
    expect(output).toEqual({ type: 'output', header: { step_id: 9, seq: 4, stream: 'stdout' }, data });
    // An output decoder never takes an upload frame for output.
    expect(() => decodeOutput(encodeUpload({ kind: 'upload', upload_id: 3, offset: 0 }, data))).toThrow(/step_id/);
  });

  it('refuse a bad upload header, naming the field', () => {
    expect(() => decodeWorkerBinary(encodeUpload({ kind: 'upload', upload_id: 0, offset: 0 }, Buffer.alloc(1)))).toThrow(/upload_id/);
    expect(() => decodeWorkerBinary(encodeUpload({ kind: 'upload', upload_id: 1, offset: -1 }, Buffer.alloc(1)))).toThrow(/offset/);
    expect(() => decodeWorkerBinary(encodeUpload({ kind: 'nope', upload_id: 1, offset: 0 } as never, Buffer.alloc(1)))).toThrow(/kind/);
    expect(() => decodeWorkerBinary(encodeUpload({ kind: 'upload', upload_id: 1, offset: 0 }, Buffer.alloc(MAX_OUTPUT_CHUNK_BYTES + 1)))).toThrow(/exceeds/);
  });

  it('round-trip the upload control messages and refuse unknown kinds', () => {
    const begin = { type: 'upload_begin' as const, step_id: 1, upload_id: 2, kind: 'artifact' as const, name: 'build/config.log', size: 10 };
    const end = { type: 'upload_end' as const, step_id: 1, upload_id: 2, failed: 'file shrank while it was read' };
    const skipped = { type: 'upload_skipped' as const, step_id: 1, kind: 'test_results' as const, name: 'core', size: 1e9, reason: 'over 100 MiB' };
    for (const message of [begin, end, skipped]) expect(decodeWorkerMessage(encodeControl(message))).toEqual(message);
    expect(() => decodeWorkerMessage(encodeControl({ ...begin, kind: 'core' } as never))).toThrow(/kind/);
  });

  it('a start_step may carry what to collect', () => {
    const command = {
      run: 'make',
      env: {},
      workdir: '.',
      builder_dir: 'b',
      timeout_ms: 0,
      max_time_ms: 0,
      collect: [{ kind: 'artifact' as const, globs: ['**/*.log'], max_file_bytes: 100, max_total_bytes: 1000 }],
    };
    const start = { type: 'start_step' as const, step_id: 1, build_id: 2, command };
    expect(decodeMasterMessage(encodeControl(start))).toEqual(start);
    expect(() => decodeMasterMessage(encodeControl({ ...start, command: { ...command, collect: [{ ...command.collect[0]!, globs: [] }] } }))).toThrow(/collect\.0\.globs/);
  });
});
