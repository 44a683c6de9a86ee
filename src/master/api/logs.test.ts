import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Build, Step } from '../domain.js';
import { createHttpServer } from './server.js';
import { createTestControl, type TestControl } from './test-control.js';

let control: TestControl;
let app: FastifyInstance;
let build: Build;
let steps: Step[];

beforeEach(async () => {
  control = await createTestControl();
  app = await createHttpServer(control, { logger: false, registry: new Registry(), onWorkerSocket: (s) => s.close() });
  ({ build, steps } = await control.startBuild('unix-tests', 'linux-1'));
  await control.store.markStepStarted(steps[0]!.id, { command: './configure', workdir: '.', startedAt: Date.now() });
});
afterEach(async () => {
  await app.close();
  await control.close();
});

let seq = 0;
/** What the log pipeline does: announce output, then store it. */
async function output(step: Step, offset: number, text: string, store = true) {
  control.events.emit('step:output', { buildId: build.id, stepId: step.id, offset, data: Buffer.from(text) });
  if (store) await control.store.appendLog(step.id, Buffer.from(text), ++seq);
}

async function finishStep(step: Step) {
  const finished = await control.store.finishStep(step.id, {
    result: 'SUCCESS',
    exitCode: 0,
    signal: null,
    summary: null,
    finishedAt: Date.now(),
  });
  control.events.emit('step:finished', { build, step: finished, durationMs: 10 });
}

/** Counts event subscriptions, so a test can see a disconnected client's listeners go. */
function countSubscriptions(): { active: () => number } {
  let active = 0;
  const on = control.events.on.bind(control.events);
  control.events.on = ((event, listener) => {
    active++;
    const off = on(event, listener);
    return () => {
      active--;
      off();
    };
  }) as typeof control.events.on;
  return { active: () => active };
}

describe('log ranges', () => {
  it('serves the raw bytes of a range as text/plain', async () => {
    const step = steps[0]!;
    await control.store.appendLog(step.id, Buffer.from('hello '), 1);
    await control.store.appendLog(step.id, Buffer.from('world\n'), 2);
    const whole = await app.inject({ method: 'GET', url: `/api/v1/steps/${step.id}/log` });
    expect(whole.statusCode).toBe(200);
    expect(whole.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(whole.body).toBe('hello world\n');
    expect(whole.headers['content-disposition']).toBeUndefined();
    const part = await app.inject({ method: 'GET', url: `/api/v1/steps/${step.id}/log?start=3&end=8` });
    expect(part.body).toBe('lo wo');
  });

  it('addresses a step by build and index or name, and downloads', async () => {
    await control.store.appendLog(steps[1]!.id, Buffer.from('cc -c x.c\n'), 1);
    const byName = await app.inject({ method: 'GET', url: `/api/v1/builds/${build.id}/steps/compile/log` });
    expect(byName.body).toBe('cc -c x.c\n');
    const byIndex = await app.inject({ method: 'GET', url: `/api/v1/builds/${build.id}/steps/1/log?download=1` });
    expect(byIndex.body).toBe('cc -c x.c\n');
    expect(byIndex.headers['content-disposition']).toBe('attachment; filename="unix-tests-1-1-compile.log"');
    const missing = await app.inject({ method: 'GET', url: `/api/v1/builds/${build.id}/steps/lint/log` });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.message).toContain('0:configure');
    expect((await app.inject({ method: 'GET', url: '/api/v1/builds/999/steps/0/log' })).json().error.message).toContain(
      'no build',
    );
  });

  it('refuses an end before the start, naming `end`', async () => {
    const response = await app.inject({ method: 'GET', url: `/api/v1/steps/${steps[0]!.id}/log?start=5&end=2` });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.details.field).toBe('end');
  });

  it('streams a 65 MB log byte-exact, sending before it has read it all', async () => {
    const step = steps[0]!;
    const chunk = Buffer.alloc(64 * 1024);
    const expected = createHash('sha256');
    const total = 65 * 1024 * 1024;
    for (let i = 0; i < total / chunk.length; i++) {
      chunk.fill(`${i} line of output\n`);
      expected.update(chunk);
      await control.store.appendLog(step.id, chunk, i + 1);
    }
    let chunksRead = 0;
    const readLog = control.readLog;
    control.readLog = async function* countChunks(...args) {
      for await (const piece of readLog(...args)) {
        chunksRead++;
        yield piece;
      }
    };
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    const response = await fetch(`http://127.0.0.1:${port}/api/v1/steps/${step.id}/log`);
    const actual = createHash('sha256');
    let bytes = 0;
    let pieces = 0;
    let readWhenFirstArrived = -1;
    for await (const piece of response.body as unknown as AsyncIterable<Uint8Array>) {
      if (pieces === 0) readWhenFirstArrived = chunksRead;
      actual.update(piece);
      bytes += piece.length;
      pieces++;
    }
    // Buffering the whole log first would have read all 1040 chunks before the first byte went out.
    expect(readWhenFirstArrived).toBeGreaterThan(0);
    expect(readWhenFirstArrived).toBeLessThan(total / chunk.length / 2);
    expect(bytes).toBe(total);
    expect(actual.digest('hex')).toBe(expected.digest('hex'));
    expect(pieces).toBeGreaterThan(100);
  });
});

describe('following a log', () => {
  it('sends stored then live output, every byte exactly once, and ends with the step', async () => {
    const step = steps[0]!;
    await output(step, 0, 'AAA');
    let subscribed!: () => void;
    const ready = new Promise<void>((resolve) => (subscribed = resolve));
    let calls = 0;
    control.onLogLength = async () => {
      // Output arriving between the subscription and the read: it reaches both the buffer and the log.
      if (calls++ === 0) {
        await output(step, 3, 'BBB');
        subscribed();
      }
    };
    const response = app.inject({ method: 'GET', url: `/api/v1/steps/${step.id}/log?follow=1` });
    await ready;
    await output(step, 6, 'CCC');
    // A resent chunk overlapping what was sent: only its new bytes go out.
    await output(step, 4, 'BBCCCDD', false);
    await control.store.appendLog(step.id, Buffer.from('DD'), ++seq);
    // Stored but never announced (a note written at the end): sent from the log before finishing.
    await control.store.appendLog(step.id, Buffer.from('\n[end]\n'), ++seq);
    await finishStep(step);
    const result = await response;
    expect(result.statusCode).toBe(200);
    expect(result.headers['cache-control']).toBe('no-store');
    expect(result.body).toBe('AAABBBCCCDD\n[end]\n');
  });

  it('fills a gap before live output from the log', async () => {
    const step = steps[0]!;
    let subscribed!: () => void;
    const ready = new Promise<void>((resolve) => (subscribed = resolve));
    control.onLogLength = () => subscribed();
    const response = app.inject({ method: 'GET', url: `/api/v1/steps/${step.id}/log?follow=1` });
    await ready;
    await control.store.appendLog(step.id, Buffer.from('12345'), ++seq);
    await output(step, 5, '678');
    await finishStep(step);
    expect((await response).body).toBe('12345678');
  });

  it('just streams a finished step', async () => {
    const step = steps[0]!;
    await output(step, 0, 'done\n');
    await finishStep(step);
    const response = await app.inject({ method: 'GET', url: `/api/v1/steps/${step.id}/log?follow=1` });
    expect(response.body).toBe('done\n');
  });

  it('ends when the build finishes without running the step', async () => {
    const step = steps[2]!;
    const response = app.inject({ method: 'GET', url: `/api/v1/builds/${build.id}/steps/test/log?follow=1` });
    await new Promise<void>((resolve) => (control.onLogLength = () => resolve()));
    const finished = await control.store.finishBuild(build.id, { result: 'FAILURE', summary: null, finishedAt: 1, requeue: false });
    control.events.emit('build:finished', { ...finished, requeued: false });
    expect((await response).body).toBe('');
    expect(step.state).toBe('pending');
  });

  it('stops at `end` while following', async () => {
    const step = steps[0]!;
    await output(step, 0, 'abc');
    const response = app.inject({ method: 'GET', url: `/api/v1/steps/${step.id}/log?follow=1&start=1&end=5` });
    await new Promise<void>((resolve) => (control.onLogLength = () => resolve()));
    await output(step, 3, 'defgh');
    expect((await response).body).toBe('bcde');
  });

  it('unsubscribes when the client goes away', async () => {
    const step = steps[0]!;
    await output(step, 0, 'first\n');
    const subscriptions = countSubscriptions();
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    const abort = new AbortController();
    const response = await fetch(`http://127.0.0.1:${port}/api/v1/steps/${step.id}/log?follow=1`, { signal: abort.signal });
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(Buffer.from(first.value!).toString()).toBe('first\n');
    expect(subscriptions.active()).toBe(3);
    abort.abort();
    await vi.waitFor(() => expect(subscriptions.active()).toBe(0), { timeout: 5000 });
  });
});
