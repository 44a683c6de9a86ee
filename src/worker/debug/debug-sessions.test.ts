import { mkdirSync, mkdtempSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DebugOpen, DebugWorkerMessage } from '../../protocol/index.js';
import { ManualClock, systemClock, type Clock } from '../clock.js';
import { DebugSessions, type DebugLink } from './debug-sessions.js';
import { loadPty } from './debug-process.js';
import type { DebugPolicy } from './policy.js';

const ALLOW: DebugPolicy = { allow: true, maxMs: 60_000, approval: false };

/** A link that keeps what the sessions send, and resolves once a message matches. */
class RecordingLink implements DebugLink {
  readonly sent: DebugWorkerMessage[] = [];
  #waiters: { match: (m: DebugWorkerMessage) => boolean; resolve: (m: DebugWorkerMessage) => void }[] = [];
  readonly congested = false;
  sendControl(message: DebugWorkerMessage): void {
    this.sent.push(message);
    for (const waiter of this.#waiters.filter((w) => w.match(message))) {
      this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
      waiter.resolve(message);
    }
  }
  drained(): Promise<void> {
    return Promise.resolve();
  }
  next<T extends DebugWorkerMessage['type']>(type: T): Promise<Extract<DebugWorkerMessage, { type: T }>> {
    const found = this.sent.find((m) => m.type === type);
    if (found) return Promise.resolve(found as Extract<DebugWorkerMessage, { type: T }>);
    return new Promise((resolve) => this.#waiters.push({ match: (m) => m.type === type, resolve: resolve as (m: DebugWorkerMessage) => void }));
  }
  output(): string {
    return this.sent.flatMap((m) => (m.type === 'debug_output' ? [Buffer.from(m.data_base64, 'base64').toString('utf8')] : [])).join('');
  }
}

function setUp(options: { policy?: DebugPolicy; clock?: Clock; noPty?: boolean } = {}) {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'shepherd-debug-worker-')));
  mkdirSync(join(dir, 'b', 'sub'), { recursive: true });
  const link = new RecordingLink();
  const log: string[] = [];
  const sessions = new DebugSessions({
    worker: 'arm-1',
    secret: 'secret',
    dir,
    policy: options.policy ?? ALLOW,
    env: { PATH: process.env.PATH, SHELL: '/bin/sh' },
    clock: options.clock ?? systemClock,
    log: (line) => log.push(line),
    link: () => link,
    killGraceMs: 200,
    ...(options.noPty ? { pty: () => loadPty('no-such-pty-module-for-shepherd') } : {}),
  });
  const open = (extra: Partial<DebugOpen> = {}): void =>
    sessions.handle({ type: 'debug_open', session_id: 's1', user: 'ada', build_id: 1, builder_dir: 'b', workdir: 'sub', env: { X: 'from-build' }, cols: 80, rows: 24, ...extra });
  return { dir, link, log, sessions, open };
}

describe('debug sessions on the worker', () => {
  it('runs a command on pipes in the build directory with the build env, stdout and stderr merged', async () => {
    const { dir, link, open } = setUp();
    open({ command: ['sh', '-c', 'pwd; echo "$X" >&2; exit 4'] });
    const exit = await link.next('debug_exit');
    expect(link.sent[0]).toEqual({ type: 'debug_opened', session_id: 's1', mode: 'pipe', max_ms: 60_000, cwd: join(dir, 'b', 'sub') });
    expect(link.output()).toBe(`${join(dir, 'b', 'sub')}\nfrom-build\n`);
    expect(exit).toEqual({ type: 'debug_exit', session_id: 's1', exit_code: 4, signal: null, reason: null });
  });

  it('falls back to pipe mode for a shell without node-pty, and says so', async () => {
    const { link, open, sessions } = setUp({ noPty: true });
    open();
    const opened = await link.next('debug_opened');
    expect(opened).toMatchObject({ mode: 'pipe', note: 'no PTY on this worker (node-pty not installed): pipe mode; no job control' });
    sessions.handle({ type: 'debug_input', session_id: 's1', data_base64: Buffer.from('echo "shell in $(pwd)"; exit 5\n').toString('base64') });
    expect(await link.next('debug_exit')).toMatchObject({ exit_code: 5 });
    expect(link.output()).toContain('shell in ');
  });

  it('opens a shell on a PTY when node-pty loads, and resizes it', async (context) => {
    if (!(await loadPty()).pty) context.skip();
    const { link, open, sessions } = setUp();
    open();
    expect(await link.next('debug_opened')).toMatchObject({ mode: 'pty' });
    expect(link.sent.find((m) => m.type === 'debug_opened')).not.toHaveProperty('note');
    sessions.handle({ type: 'debug_resize', session_id: 's1', cols: 123, rows: 45 });
    sessions.handle({ type: 'debug_input', session_id: 's1', data_base64: Buffer.from('tty >/dev/null && stty size; exit 0\n').toString('base64') });
    expect(await link.next('debug_exit')).toMatchObject({ exit_code: 0 });
    expect(link.output()).toContain('45 123');
  });

  it('refuses a directory that escapes the worker directory or no longer exists', () => {
    const { link, open } = setUp();
    open({ workdir: '../../..' });
    open({ session_id: 's2', workdir: 'gone' } as Partial<DebugOpen>);
    expect(link.sent.map((m) => m.type)).toEqual(['debug_refused', 'debug_refused']);
    expect((link.sent[0] as { reason: string }).reason).toMatch(/escapes the worker directory/);
    expect((link.sent[1] as { reason: string }).reason).toMatch(/no longer exists on arm-1/);
  });

  it('ends a pending session at the time limit without starting anything', () => {
    const clock = new ManualClock();
    const { link, open, sessions } = setUp({ clock, policy: { ...ALLOW, approval: true, maxMs: 1000 } });
    open({ command: ['true'] });
    expect(link.sent).toEqual([{ type: 'debug_pending', session_id: 's1', note: 'waiting for the admin of arm-1 to approve session s1 (shepherd approve s1)' }]);
    clock.advance(999);
    expect(sessions.size).toBe(1);
    clock.advance(1);
    expect(sessions.size).toBe(0);
    expect(link.sent.at(-1)).toEqual({ type: 'debug_exit', session_id: 's1', exit_code: null, signal: null, reason: "the worker's time limit of 1s was reached" });
  });

  it('forgets every session when the connection drops, killing their processes', async () => {
    const { link, open, sessions } = setUp();
    open({ command: ['sleep', '30'] });
    await link.next('debug_opened');
    sessions.endAll('the connection to the master was lost');
    expect(sessions.size).toBe(0);
    // Its exit is not sent: nobody is at the other end any more.
    expect(link.sent.map((m) => m.type)).toEqual(['debug_opened']);
  });
});
