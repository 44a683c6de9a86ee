import { describe, expect, it } from 'vitest';
import { parseServerSentEvents } from './sse.js';

async function collect(chunks: (string | Uint8Array)[]) {
  const out = [];
  for await (const event of parseServerSentEvents((async function* () { yield* chunks; })())) out.push(event);
  return out;
}

describe('parseServerSentEvents', () => {
  it('parses events split anywhere across chunks, skipping comments', async () => {
    const text = ': connected\nretry: 2000\n\nevent: build:started\ndata: {"a":1}\n\n: heartbeat\n\nevent: x\r\ndata: l1\r\ndata: l2\r\n\r\ndata: plain\n\n';
    const bytes = new TextEncoder().encode(text);
    const chunks = [bytes.subarray(0, 7), bytes.subarray(7, 40), bytes.subarray(40, 41), bytes.subarray(41)];
    expect(await collect(chunks)).toEqual([
      { event: 'build:started', data: '{"a":1}' },
      { event: 'x', data: 'l1\nl2' },
      { event: 'message', data: 'plain' },
    ]);
  });

  it('keeps multi-byte characters split between chunks', async () => {
    const bytes = new TextEncoder().encode('data: é\n\n');
    expect(await collect([bytes.subarray(0, 7), bytes.subarray(7)])).toEqual([{ event: 'message', data: 'é' }]);
  });

  it('drops an unterminated last event', async () => {
    expect(await collect(['data: half'])).toEqual([]);
  });
});
