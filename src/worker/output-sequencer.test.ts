import { describe, expect, it } from 'vitest';
import { MAX_OUTPUT_CHUNK_BYTES } from '../protocol/index.js';
import { ManualClock } from './clock.js';
import { OutputSequencer, type OutputStream } from './output-sequencer.js';

function setup(options: { chunkBytes?: number } = {}) {
  const clock = new ManualClock();
  const chunks: { seq: number; stream: OutputStream; text: string; length: number }[] = [];
  const sequencer = new OutputSequencer({
    clock,
    ...options,
    onChunk: (seq, stream, data) => chunks.push({ seq, stream, text: data.toString('latin1'), length: data.length }),
  });
  return { clock, chunks, sequencer };
}

describe('OutputSequencer', () => {
  it('coalesces small writes and flushes 100 ms after the first unflushed byte', () => {
    const { clock, chunks, sequencer } = setup();
    sequencer.write('stdout', Buffer.from('a'));
    clock.advance(60);
    sequencer.write('stdout', Buffer.from('b'));
    clock.advance(39);
    expect(chunks).toEqual([]);
    clock.advance(1);
    expect(chunks).toEqual([{ seq: 1, stream: 'stdout', text: 'ab', length: 2 }]);
    expect(clock.pending).toBe(0);
  });

  it('cuts full chunks at once, never larger than the protocol allows', () => {
    const { clock, chunks, sequencer } = setup();
    sequencer.write('stdout', Buffer.alloc(MAX_OUTPUT_CHUNK_BYTES * 2 + 10, 0x61));
    expect(chunks.map((c) => c.length)).toEqual([MAX_OUTPUT_CHUNK_BYTES, MAX_OUTPUT_CHUNK_BYTES]);
    clock.advance(100);
    expect(chunks.map((c) => [c.seq, c.length])).toEqual([
      [1, MAX_OUTPUT_CHUNK_BYTES],
      [2, MAX_OUTPUT_CHUNK_BYTES],
      [3, 10],
    ]);
  });

  it('shares one sequence across streams and keeps arrival order', () => {
    const { chunks, sequencer } = setup({ chunkBytes: 4 });
    sequencer.write('stdout', Buffer.from('ab'));
    sequencer.write('stderr', Buffer.from('XY'));
    sequencer.write('stderr', Buffer.from('Zw'));
    sequencer.write('stdout', Buffer.from('cd'));
    sequencer.flush();
    expect(chunks.map((c) => [c.seq, c.stream, c.text])).toEqual([
      [1, 'stdout', 'ab'],
      [2, 'stderr', 'XYZw'],
      [3, 'stdout', 'cd'],
    ]);
  });

  it('emits nothing after discard', () => {
    const { clock, chunks, sequencer } = setup();
    sequencer.write('stdout', Buffer.from('lost'));
    sequencer.discard();
    sequencer.write('stdout', Buffer.from('more'));
    clock.advance(1000);
    expect(chunks).toEqual([]);
    expect(clock.pending).toBe(0);
  });
});
