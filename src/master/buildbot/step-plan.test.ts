/**
 * The pure decisions of running a Shepherd step on a Buildbot worker, and
 * of reading what the worker says about itself.
 */
import { describe, expect, it } from 'vitest';
import { basicCredentials } from './listener.js';
import { endedByOf, OutputTranslator, pythonGlob, shellArgs, shellOutcome, signalOf, stepPaths } from './step-plan.js';
import { platformOf, workerInfoFrom } from './worker-info.js';

const command = { run: 'make check', env: { CC: 'gcc' }, workdir: 'build', builder_dir: 'unix', timeout_ms: 1_200_000, max_time_ms: 0 };

describe('step paths', () => {
  it('lays the step out under the worker base directory as the agent does', () => {
    expect(stepPaths('/srv/bb', false, command, 7)).toEqual({
      builderDir: '/srv/bb/unix',
      workdir: '/srv/bb/unix/build',
      stepDir: '/srv/bb/.shepherd/steps/7',
    });
    expect(stepPaths('C:\\bb', true, command, 7).workdir).toBe('C:\\bb\\unix\\build');
  });

  it('refuses a workdir or builder_dir that escapes the base directory or points into its state, naming the field', () => {
    expect(() => stepPaths('/srv/bb', false, { ...command, workdir: '../../x' }, 1)).toThrow(/^workdir "..\/..\/x" escapes/);
    expect(() => stepPaths('/srv/bb', false, { ...command, builder_dir: '/etc' }, 1)).toThrow(/^builder_dir "\/etc" escapes/);
    expect(() => stepPaths('/srv/bb', false, { ...command, builder_dir: '.shepherd' }, 1)).toThrow(/state directory/);
  });
});

describe('shell arguments', () => {
  it('runs a string through /bin/sh -c, an argv as is, with the step dir in the environment and limits in seconds', () => {
    const paths = stepPaths('/srv/bb', false, command, 7);
    expect(shellArgs(command, paths, 10)).toMatchObject({
      workdir: '/srv/bb/unix/build',
      command: ['/bin/sh', '-c', 'make check'],
      env: { CC: 'gcc', SHEPHERD_STEP_DIR: '/srv/bb/.shepherd/steps/7' },
      timeout: 1200,
      maxTime: null,
      sigtermTime: 10,
      usePTY: false,
    });
    const argv = shellArgs({ ...command, run: ['make', 'check'], timeout_ms: 1500, max_time_ms: 60_000, env: { SHEPHERD_STEP_DIR: 'mine' } }, paths, 10);
    expect(argv).toMatchObject({ command: ['make', 'check'], timeout: 2, maxTime: 60, env: { SHEPHERD_STEP_DIR: '/srv/bb/.shepherd/steps/7' } });
  });
});

describe('output', () => {
  it('keeps the bytes as sent, and drops the newline the worker adds to a last unterminated line after rc', () => {
    const t = new OutputTranslator();
    expect(t.bytes('stdout', 'a\r\n')?.toString()).toBe('a\r\n');
    expect(t.bytes('header', 'sh -c ...\n')).toBeNull();
    expect(t.bytes('stderr', 'é\n')?.toString()).toBe('é\n');
    expect(t.bytes('rc', '')).toBeNull();
    expect(t.bytes('stdout', 'partial\n')?.toString()).toBe('partial');
    expect(t.bytes('stdout', '\n')).toBeNull();
  });
});

describe('outcome', () => {
  const end = { rc: 0, elapsed: 1.2345, failure: null, headers: [] as string[] };

  it('an exit code, with the worker\'s elapsed time', () => {
    expect(shellOutcome(end, { cancelled: false, fallbackMs: 5 })).toEqual({ exit_code: 0, signal: null, duration_ms: 1235, ended_by: null, spawn_error: null });
    expect(shellOutcome({ ...end, rc: 3 }, { cancelled: false, fallbackMs: 5 }).exit_code).toBe(3);
  });

  it('a kill: the signal from the header, and why (cancel, timeout, max_time)', () => {
    const killed = { ...end, rc: -1, headers: ['\ncommand interrupted, attempting to kill\n', 'process killed by signal 9\n'] };
    expect(shellOutcome(killed, { cancelled: true, fallbackMs: 5 })).toMatchObject({ exit_code: null, signal: 'SIGKILL', ended_by: 'cancel' });
    const timeout = { ...end, rc: -1, headers: ['\ncommand timed out: 1200 seconds without output running [...], attempting to kill\n', 'process killed by signal 15\n'] };
    expect(shellOutcome(timeout, { cancelled: false, fallbackMs: 5 })).toMatchObject({ exit_code: null, signal: 'SIGTERM', ended_by: 'timeout' });
    expect(endedByOf(['command timed out: 60 seconds elapsed running [...]'])).toBe('max_time');
    expect(signalOf(['elapsedTime=1.0\n'])).toBeNull();
  });

  it('no rc: the command never ran; the worker\'s failure is the spawn error', () => {
    expect(shellOutcome({ rc: null, elapsed: null, failure: 'OSError: no such directory', headers: [] }, { cancelled: false, fallbackMs: 40 }))
      .toEqual({ exit_code: null, signal: null, duration_ms: 40, ended_by: null, spawn_error: 'OSError: no such directory' });
  });

  it('escapes [ for Python\'s glob, where the agent\'s globs take it literally', () => {
    expect(pythonGlob('out/[a]*.txt')).toBe('out/[[]a]*.txt');
  });
});

describe('worker info', () => {
  const reported = {
    admin: 'Grace Hopper <grace@example.org>\n',
    host: 'a Debian test box\n',
    os_id: 'debian',
    os_version_id: '12',
    system: 'posix',
    basedir: '/srv/bb',
    numcpus: 4,
    version: '3.7.0',
    environ: { HOSTNAME: 'bb1' },
  };

  it('admin and host files become the contact and description, os-release the dimensions', () => {
    expect(workerInfoFrom(reported)).toEqual({
      os: 'linux',
      arch: '',
      cpus: 4,
      hostname: 'a Debian test box',
      agent_version: 'buildbot-worker 3.7.0',
      dimensions: { os: 'linux', distro: 'debian', distro_version: '12' },
      admin: 'Grace Hopper <grace@example.org>',
    });
  });

  it('Buildbot\'s placeholder info files are no contact and no description', () => {
    const info = workerInfoFrom({ ...reported, admin: 'Your Name Here <admin@youraddress.invalid>\n', host: 'Please put a description of this build host here\n' });
    expect(info.admin).toBeUndefined();
    expect(info.hostname).toBe('bb1');
  });

  it('names the platform as agents do', () => {
    expect(platformOf({ system: 'nt' })).toBe('win32');
    expect(platformOf({ system: 'posix', os_id: 'freebsd' })).toBe('freebsd');
    expect(platformOf({ system: 'posix' })).toBe('unknown');
  });
});

describe('basic credentials', () => {
  it('reads name:password, the password may hold colons', () => {
    expect(basicCredentials(`Basic ${Buffer.from('w1:pa:ss').toString('base64')}`)).toEqual({ name: 'w1', password: 'pa:ss' });
    expect(basicCredentials('Basic dzE6cGFzcw==')).toEqual({ name: 'w1', password: 'pass' });
    expect(basicCredentials(undefined)).toBeNull();
    expect(basicCredentials('Bearer x')).toBeNull();
    expect(basicCredentials(`Basic ${Buffer.from('nocolon').toString('base64')}`)).toBeNull();
  });
});
