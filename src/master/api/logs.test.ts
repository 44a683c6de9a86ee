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
/** Called (and awaited) at the start of every `logLength`, so a test can act between subscribe and read. */
let onLogLength: ((stepId: number) => Promise<void> | void) | undefined;

beforeEach(async () => {
  control = await createTestControl();
  onLogLength = undefined;
  const logLength = control.logLength.bind(control);
  control.logLength = async function logLengthAfterHook(stepId) {
    await onLogLength?.(stepId);
    return logLength(stepId);
  };
  app = await createHttpServer(control, { logger: false, registry: new Registry(), onWorkerSocket: (s) => s.close() });
  // The coordinator starts the build on linux-1 and sends it the first step (configure), which is now running.
  ({ build, steps } = await control.startBuild('unix-tests', 'linux-1'));
});
afterEach(async () => {
  await app.close();
  await control.close();
});

/** The worker sends output: the coordinator announces it, then stores it. */
function output(step: Step, text: string | Buffer) {
  control.sendOutput(step.id, text);
}

async function finishStep(step: Step) {
  await control.finishStep(step.id, { duration_ms: 10 });
}

/**
 * Runs `fn` with its `step:output` announcements lost on the way to the
 * follower: the coordinator announces every byte it takes, so this is the
 * only way to see the follower fill a gap from the log.
 */
function unannounced(fn: () => void) {
  const emit = control.events.emit;
  control.events.emit = function dropOutput(event, payload) {
    if (event !== 'step:output') emit.call(control.events, event, payload);
  } as typeof emit;
  try {
    fn();
  } finally {
    control.events.emit = emit;
  }
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
    output(step, 'hello ');
    output(step, 'world\n');
    await control.stored(step.id);
    const whole = await app.inject({ method: 'GET', url: `/api/v1/steps/${step.id}/log` });
    expect(whole.statusCode).toBe(200);
    expect(whole.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(whole.body).toBe('hello world\n');
    expect(whole.headers['content-disposition']).toBeUndefined();
    const part = await app.inject({ method: 'GET', url: `/api/v1/steps/${step.id}/log?start=3&end=8` });
    expect(part.body).toBe('lo wo');
  });

  it('addresses a step by build and index or name, and downloads', async () => {
    await finishStep(steps[0]!);
    const compile = await control.nextStep(build.id);
    expect(compile.id).toBe(steps[1]!.id);
    output(compile, 'cc -c x.c\n');
    await control.stored(compile.id);
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
      output(step, chunk);
    }
    await control.stored(step.id);
    let chunksRead = 0;
    const readLog = control.readLog.bind(control);
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
    output(step, 'AAA');
    let subscribed!: () => void;
    const ready = new Promise<void>((resolve) => (subscribed = resolve));
    let calls = 0;
    onLogLength = async () => {
      // Output arriving between the subscription and the read: it reaches both the buffer and the log.
      if (calls++ === 0) {
        output(step, 'BBB');
        subscribed();
      }
    };
    const response = app.inject({ method: 'GET', url: `/api/v1/steps/${step.id}/log?follow=1` });
    await ready;
    output(step, 'CCC');
    // A chunk resent after a reconnect (same sequence number): nothing goes out twice.
    control.sendOutput(step.id, 'BBB', 2);
    output(step, 'DD');
    // In the log but never announced to this follower: sent from the log before finishing.
    unannounced(() => output(step, '\n[end]\n'));
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
    onLogLength = () => subscribed();
    const response = app.inject({ method: 'GET', url: `/api/v1/steps/${step.id}/log?follow=1` });
    await ready;
    unannounced(() => output(step, '12345'));
    output(step, '678');
    await finishStep(step);
    expect((await response).body).toBe('12345678');
  });

  it('just streams a finished step', async () => {
    const step = steps[0]!;
    output(step, 'done\n');
    await finishStep(step);
    const response = await app.inject({ method: 'GET', url: `/api/v1/steps/${step.id}/log?follow=1` });
    expect(response.body).toBe('done\n');
  });

  it('ends when the build finishes without running the step', async () => {
    const step = steps[2]!;
    const response = app.inject({ method: 'GET', url: `/api/v1/builds/${build.id}/steps/test/log?follow=1` });
    await new Promise<void>((resolve) => (onLogLength = () => resolve()));
    // configure fails: the build halts and ends FAILURE without running `test`.
    const finished = control.buildFinished(build.id);
    await control.finishStep(steps[0]!.id, { exit_code: 1 });
    expect((await finished).result).toBe('FAILURE');
    expect((await response).body).toBe('');
    expect(step.state).toBe('pending');
  });

  it('stops at `end` while following', async () => {
    const step = steps[0]!;
    output(step, 'abc');
    const response = app.inject({ method: 'GET', url: `/api/v1/steps/${step.id}/log?follow=1&start=1&end=5` });
    await new Promise<void>((resolve) => (onLogLength = () => resolve()));
    output(step, 'defgh');
    expect((await response).body).toBe('bcde');
  });

  it('unsubscribes when the client goes away', async () => {
    const step = steps[0]!;
    output(step, 'first\n');
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
