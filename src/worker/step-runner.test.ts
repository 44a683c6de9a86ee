import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StepCommand, StepOutcome } from '../protocol/index.js';
import { systemClock } from './clock.js';
import type { OutputStream } from './output-sequencer.js';
import { processAlive } from './process-group.js';
import { runStep, type RunningStep, type StepRunnerOptions } from './step-runner.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'shepherd-step-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function command(run: StepCommand['run'], extra: Partial<StepCommand> = {}): StepCommand {
  return { run, env: {}, workdir: '.', builder_dir: 'b', timeout_ms: 0, max_time_ms: 0, ...extra };
}

interface Run {
  step: RunningStep;
  chunks: { stream: OutputStream; data: Buffer }[];
  output(): Buffer;
  text(): string;
  /** Resolves when the output contains `pattern`. */
  waitForOutput(pattern: RegExp, ms?: number): Promise<RegExpMatchArray>;
  outcome(ms?: number): Promise<StepOutcome>;
}

function start(cmd: StepCommand, options: Partial<StepRunnerOptions> = {}): Run {
  const chunks: Run['chunks'] = [];
  const listeners = new Set<() => void>();
  const step = runStep(cmd, {
    dir,
    clock: systemClock,
    killGraceMs: 5000,
    baseEnv: process.env,
    onOutput: (stream, data) => {
      chunks.push({ stream, data });
      for (const listener of listeners) listener();
    },
    ...options,
  });
  const output = () => Buffer.concat(chunks.map((c) => c.data));
  return {
    step,
    chunks,
    output,
    text: () => output().toString('utf8'),
    waitForOutput: (pattern, ms = 10_000) =>
      within(
        new Promise((resolve) => {
          const check = () => {
            const match = output().toString('utf8').match(pattern);
            if (match) {
              listeners.delete(check);
              resolve(match);
            }
          };
          listeners.add(check);
          check();
        }),
        ms,
        `output matching ${pattern}`,
      ),
    outcome: (ms = 20_000) => within(step.done, ms, 'the step outcome'),
  };
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Waits until the process is gone (it is not our child, so there is no event to wait for). */
async function gone(pid: number, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (processAlive(pid)) {
    if (Date.now() > deadline) throw new Error(`process ${pid} still alive after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('runStep', () => {
  it('reports exit codes', async () => {
    const ok = await start(command('exit 0')).outcome();
    expect(ok).toMatchObject({ exit_code: 0, signal: null, ended_by: null, spawn_error: null });
    const failed = await start(command('exit 3')).outcome();
    expect(failed).toMatchObject({ exit_code: 3, signal: null, ended_by: null });
    expect(failed.duration_ms).toBeGreaterThanOrEqual(0);
  });

  it('runs a string through /bin/sh and an array directly', async () => {
    const shell = start(command('echo "$((1 + 2))" | tr 3 x'));
    expect(await shell.outcome()).toMatchObject({ exit_code: 0 });
    expect(shell.text()).toBe('x\n');
    // No shell: the `$HOME` and `;` reach the program untouched.
    const argv = start(command(['printf', '%s|%s', '$HOME', 'a; b']));
    expect(await argv.outcome()).toMatchObject({ exit_code: 0 });
    expect(argv.text()).toBe('$HOME|a; b');
  });

  it('merges the step env over the agent env', async () => {
    const run = start(command('echo "$SHEPHERD_A $SHEPHERD_B"', { env: { SHEPHERD_B: 'step' } }), {
      baseEnv: { ...process.env, SHEPHERD_A: 'agent', SHEPHERD_B: 'agent' },
    });
    await run.outcome();
    expect(run.text()).toBe('agent step\n');
  });

  it('creates the working directory and runs there', async () => {
    const run = start(command('pwd', { builder_dir: 'linux', workdir: 'deep/build' }));
    expect(await run.outcome()).toMatchObject({ exit_code: 0 });
    expect(run.text()).toBe(`${join(dir, 'linux/deep/build')}\n`);
    expect(statSync(join(dir, 'linux/deep/build')).isDirectory()).toBe(true);
  });

  it('refuses a workdir that escapes the base directory', async () => {
    const run = start(command('echo never', { workdir: '../../outside' }));
    const outcome = await run.outcome();
    expect(outcome).toMatchObject({ exit_code: null, signal: null, ended_by: null });
    expect(outcome.spawn_error).toMatch(/workdir "\.\.\/\.\.\/outside" escapes/);
    expect(run.text()).toMatch(/^\[shepherd\] cannot start the step: workdir .* escapes/);
    expect(run.step.pgid).toBeNull();
  });

  it('reports a program that does not exist', async () => {
    const run = start(command(['shepherd-no-such-program', 'x']));
    const outcome = await run.outcome();
    expect(outcome).toMatchObject({ exit_code: null, signal: null, ended_by: null });
    expect(outcome.spawn_error).toMatch(/ENOENT/);
    expect(run.text()).toMatch(/\[shepherd\] cannot start the step: spawn shepherd-no-such-program ENOENT/);
  });

  it('passes output through byte for byte, stdout and stderr in one log', async () => {
    const run = start(command("printf '\\377\\000'; printf 'err' >&2"));
    await run.outcome();
    expect([...run.output()]).toEqual([0xff, 0x00, 0x65, 0x72, 0x72]);
    expect(run.chunks.filter((c) => c.stream === 'stderr').map((c) => c.data.toString())).toEqual(['err']);
  });

  it('kills the whole process group after a period without output', async () => {
    const run = start(command('sleep 1000 & echo "grandchild $!"; sleep 1000', { timeout_ms: 300 }));
    const [, pid] = await run.waitForOutput(/grandchild (\d+)\n/);
    const outcome = await run.outcome();
    expect(outcome).toMatchObject({ exit_code: null, signal: 'SIGTERM', ended_by: 'timeout', spawn_error: null });
    expect(outcome.duration_ms).toBeGreaterThanOrEqual(300);
    expect(run.text()).toContain('[shepherd] no output for 300ms: sending SIGTERM to the process group\n');
    await gone(Number(pid));
  });

  it('resets the no-output timer on every byte of output', async () => {
    const run = start(command('for i in 1 2 3 4 5 6; do echo $i; sleep 0.1; done', { timeout_ms: 400 }));
    expect(await run.outcome()).toMatchObject({ exit_code: 0, ended_by: null });
  });

  it('SIGKILLs the group when it ignores SIGTERM', async () => {
    const run = start(command('trap "" TERM; sleep 1000 & echo "grandchild $!"; sleep 1000', { timeout_ms: 200 }), { killGraceMs: 200 });
    const [, pid] = await run.waitForOutput(/grandchild (\d+)\n/);
    const outcome = await run.outcome();
    expect(outcome).toMatchObject({ exit_code: null, signal: 'SIGKILL', ended_by: 'timeout' });
    expect(run.text()).toMatch(/still running 200ms after SIGTERM: sending SIGKILL to the process group\n$/);
    await gone(Number(pid));
  });

  it('ends a step that runs longer than max_time even while it prints', async () => {
    const run = start(command('while true; do echo tick; sleep 0.05; done', { max_time_ms: 300, timeout_ms: 10_000 }));
    const outcome = await run.outcome();
    expect(outcome).toMatchObject({ exit_code: null, signal: 'SIGTERM', ended_by: 'max_time' });
    expect(run.text()).toMatch(/\n\[shepherd\] still running after 300ms \(max_time\): sending SIGTERM to the process group\n$/);
  });

  it('is cancelled on request, with the reason in the log', async () => {
    const run = start(command('echo started; printf partial; sleep 1000'));
    await run.waitForOutput(/partial/);
    run.step.terminate('cancel', 'cancelled by alice');
    run.step.terminate('timeout', 'ignored: the first reason wins');
    const outcome = await run.outcome();
    expect(outcome).toMatchObject({ exit_code: null, signal: 'SIGTERM', ended_by: 'cancel' });
    // The agent's line starts on a fresh line even after a partial line.
    expect(run.text()).toBe('started\npartial\n[shepherd] cancelled by alice: sending SIGTERM to the process group\n');
  });

  it('does not hang when a background process keeps the output open', async () => {
    const run = start(command('sleep 1000 & echo "daemon $!"'), { killGraceMs: 200 });
    const [, pid] = await run.waitForOutput(/daemon (\d+)\n/);
    expect(await run.outcome()).toMatchObject({ exit_code: 0, signal: null, ended_by: null });
    expect(run.text()).toContain('still hold its output open: sending SIGKILL to the process group');
    await gone(Number(pid));
  });

  it('gives the step its own directory with the master files, and reads the properties it sets', async () => {
    const stepDir = join(dir, '.shepherd', 'steps', '4');
    const run = start(
      command('cat "$SHEPHERD_STEP_DIR/try.patch"; printf "got_revision=abc\\nnot a property\\nv=1\\n" >"$SHEPHERD_STEP_DIR/properties"', {
        // The agent's variable wins over the step's own env.
        env: { SHEPHERD_STEP_DIR: '/elsewhere' },
        files: [{ name: 'try.patch', data_base64: Buffer.from('the patch\n').toString('base64') }],
      }),
      { stepDir },
    );
    expect(run.step.properties).toEqual({});
    expect(await run.outcome()).toMatchObject({ exit_code: 0 });
    expect(run.step.properties).toEqual({ got_revision: 'abc', v: '1' });
    expect(run.text()).toBe(
      'the patch\n[shepherd] $SHEPHERD_STEP_DIR/properties line 2 is not NAME=value ' +
        "with a NAME of letters, digits, '_', '.' and '-'; it is ignored\n",
    );
  });

  it('does not start a step whose files cannot be written', async () => {
    const blocked = join(dir, 'file');
    writeFileSync(blocked, '');
    const run = start(command('echo never', { files: [{ name: 'p', data_base64: '' }] }), { stepDir: join(blocked, 'step') });
    const outcome = await run.outcome();
    expect(outcome.spawn_error).toMatch(/ENOTDIR/);
    expect(run.text()).toMatch(/^\[shepherd\] cannot start the step: ENOTDIR/);
    const noDir = start(command('echo never', { files: [{ name: 'p', data_base64: '' }] }));
    expect((await noDir.outcome()).spawn_error).toBe('the step comes with files but has no directory to put them in');
  });
});
