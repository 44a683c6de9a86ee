import { describe, expect, it } from 'vitest';
import { EchoFilter, LineEditor, debugSocketUrl, describeStatus, exitText, openMessage, parseStatus, resizeMessage, sessionOutcome, type DebugSessionJson } from './debug-protocol.js';

describe('debugSocketUrl', () => {
  it('follows the page: ws on http, wss on https, the token and user in the query', () => {
    expect(debugSocketUrl({ protocol: 'http:', host: '127.0.0.1:8010' }, 12, 't/k+n', ' ada ')).toBe('ws://127.0.0.1:8010/api/v1/builds/12/debug?token=t%2Fk%2Bn&user=ada');
    expect(debugSocketUrl({ protocol: 'https:', host: 'ci.example.org' }, 3, 'tok', '')).toBe('wss://ci.example.org/api/v1/builds/3/debug?token=tok');
  });
});

describe('messages to the master', () => {
  it('opens a shell at the terminal size, within what the master accepts', () => {
    expect(JSON.parse(openMessage(120, 30))).toEqual({ type: 'open', cols: 120, rows: 30 });
    expect(JSON.parse(openMessage(0, 5000))).toEqual({ type: 'open', cols: 1, rows: 1000 });
    expect(JSON.parse(resizeMessage(80.7, 24))).toEqual({ type: 'resize', cols: 80, rows: 24 });
  });
});

describe('status messages', () => {
  it('parses the master status frames and ignores anything else', () => {
    expect(parseStatus('{"type":"refused","reason":"no"}')).toEqual({ type: 'refused', reason: 'no' });
    expect(parseStatus('{"type":"other"}')).toBeNull();
    expect(parseStatus('not json')).toBeNull();
    expect(parseStatus('null')).toBeNull();
  });

  it('says what each one means', () => {
    expect(describeStatus({ type: 'session', session: 's1', build_id: 4, worker: 'w1' })).toMatchObject({ phase: 'asked', text: 'debug session s1: asking w1 (build 4)…' });
    expect(describeStatus({ type: 'pending', note: 'waiting for the admin of w1 to approve session s1 (shepherd approve s1)' })).toMatchObject({
      phase: 'pending',
      text: 'waiting for the admin of w1 to approve session s1 (shepherd approve s1)',
    });
    expect(describeStatus({ type: 'opened', mode: 'pipe', note: 'no PTY on this worker', cwd: '/srv/b', max_ms: 3_600_000 })).toEqual({
      phase: 'open',
      tone: 'info',
      text: 'open in /srv/b; the worker ends the session after 60 min; exit the shell to leave. no PTY on this worker',
    });
    expect(describeStatus({ type: 'refused', reason: "the worker's admin does not allow debug sessions on w2" })).toEqual({
      phase: 'refused',
      tone: 'error',
      text: "refused: the worker's admin does not allow debug sessions on w2",
    });
    expect(describeStatus({ type: 'exit', exit_code: 0, signal: null, reason: null })).toEqual({ phase: 'ended', tone: 'info', text: 'exited with status 0' });
    expect(describeStatus({ type: 'error', code: 'SHEPHERD_E_CONFLICT', message: 'worker w1 is not connected' })).toMatchObject({ phase: 'failed', tone: 'error' });
  });

  it('describes exits and past sessions', () => {
    expect(exitText({ exit_code: null, signal: 'SIGKILL', reason: 'the session reached its 1 h limit' })).toBe('killed by SIGKILL: the session reached its 1 h limit');
    const base: DebugSessionJson = {
      session: 's',
      build_id: 1,
      worker: 'w',
      user: 'ada',
      command: null,
      mode: 'pty',
      started_at: 1,
      ended_at: 2,
      exit_code: 3,
      refused_reason: null,
      end_reason: null,
      recording: null,
    };
    expect(sessionOutcome(base)).toBe('exited with status 3');
    expect(sessionOutcome({ ...base, refused_reason: 'not allowed', ended_at: 1 })).toBe('refused: not allowed');
    expect(sessionOutcome({ ...base, ended_at: null, exit_code: null })).toBe('open now');
  });
});

describe('LineEditor (pipe mode)', () => {
  it('echoes what is typed and sends the line with "\\n" on Enter', () => {
    const editor = new LineEditor();
    expect(editor.feed('p')).toEqual({ echo: 'p', send: '' });
    expect(editor.feed('wd')).toEqual({ echo: 'wd', send: '' });
    expect(editor.feed('\r')).toEqual({ echo: '\r\n', send: 'pwd\n' });
    expect(editor.feed('\r')).toEqual({ echo: '\r\n', send: '\n' });
  });

  it('edits the line: Backspace, Ctrl-U, and Ctrl-C drops it', () => {
    const editor = new LineEditor();
    expect(editor.feed('lsx\x7f')).toEqual({ echo: 'lsx\b \b', send: '' });
    expect(editor.feed('\x7f\x7f\x7f')).toEqual({ echo: '\b \b\b \b', send: '' });
    expect(editor.feed('rm -rf\x15')).toEqual({ echo: `rm -rf${'\b \b'.repeat(6)}`, send: '' });
    expect(editor.feed('sleep 9\x03')).toEqual({ echo: 'sleep 9^C\r\n', send: '' });
    expect(editor.feed('ls\r')).toEqual({ echo: 'ls\r\n', send: 'ls\n' });
  });

  it('drops arrow keys and other escape sequences; takes pasted lines and characters beyond ASCII whole', () => {
    const editor = new LineEditor();
    expect(editor.feed('\x1b[A\x1b[1;5Cab\x1bOP')).toEqual({ echo: 'ab', send: '' });
    expect(editor.feed('\r\necho é😀\x7f\ntrue\r\n')).toEqual({ echo: '\r\necho é😀\b \b\r\ntrue\r\n', send: 'ab\necho é\ntrue\n' });
  });
});

describe('EchoFilter (pipe mode)', () => {
  it("drops bash's echo of the sent line, even split across chunks", () => {
    const filter = new EchoFilter();
    filter.sent('pwd\n');
    expect(filter.filter('pw')).toBe('');
    expect(filter.filter('d\n/tmp\n')).toBe('/tmp\n');
    expect(filter.filter('$ ')).toBe('$ ');
  });
  it("keeps output when the shell does not echo (dash), and does not expect the echo later", () => {
    const filter = new EchoFilter();
    filter.sent('echo pwd\n');
    expect(filter.filter('pwd\n')).toBe('pwd\n');
    expect(filter.filter('echo pwd\n')).toBe('echo pwd\n');
  });
});
