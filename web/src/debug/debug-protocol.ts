/**
 * The browser's side of a debug session, kept pure: the WebSocket's URL, what
 * each status message from the master says to the person, and the line
 * editing a shell on plain pipes needs (nothing on the worker echoes or edits
 * what is typed there).
 *
 * The message shapes are the API's (`DebugClientStatus`, `DebugSessionJson`
 * in src/master/api/schemas.ts).
 */
import type { DebugClientStatus, DebugSessionJson } from '../api/client.js';

export type { DebugClientStatus, DebugSessionJson };

/**
 * The session's WebSocket: same origin, `ws:` or `wss:` as the page, the API
 * token as `?token=` (a browser cannot set headers on a WebSocket) and the
 * user's name when given (the master's default is "operator").
 */
export function debugSocketUrl(page: { protocol: string; host: string }, buildId: number, token: string, user: string): string {
  const search = new URLSearchParams({ token });
  if (user.trim()) search.set('user', user.trim());
  return `${page.protocol === 'https:' ? 'wss:' : 'ws:'}//${page.host}/api/v1/builds/${buildId}/debug?${search}`;
}

/** The first message: the terminal's size (a shell; the UI never asks for a one-off command). */
export function openMessage(cols: number, rows: number): string {
  return JSON.stringify({ type: 'open', cols: clampSize(cols), rows: clampSize(rows) });
}

/** A resize of the terminal. */
export function resizeMessage(cols: number, rows: number): string {
  return JSON.stringify({ type: 'resize', cols: clampSize(cols), rows: clampSize(rows) });
}

/** The master accepts 1 to 1000 columns and rows. */
function clampSize(n: number): number {
  return Math.min(1000, Math.max(1, Math.floor(n) || 1));
}

const STATUS_TYPES = new Set(['session', 'pending', 'opened', 'refused', 'exit', 'error']);

/** A text frame as a status message, or null when it is not one (ignored, as the CLI does). */
export function parseStatus(text: string): DebugClientStatus | null {
  try {
    const value = JSON.parse(text) as { type?: unknown };
    return value !== null && typeof value === 'object' && typeof value.type === 'string' && STATUS_TYPES.has(value.type) ? (value as DebugClientStatus) : null;
  } catch {
    return null;
  }
}

/** Where a session stands, as the panel shows it. */
export type SessionPhase = 'connecting' | 'asked' | 'pending' | 'open' | 'refused' | 'ended' | 'failed';

/** What the panel says about one status message, and the phase it moves to. */
export interface StatusLine {
  phase: SessionPhase;
  text: string;
  tone: 'info' | 'error';
}

/** The person's reading of a status message. */
export function describeStatus(status: DebugClientStatus): StatusLine {
  switch (status.type) {
    case 'session':
      return { phase: 'asked', tone: 'info', text: `debug session ${status.session}: asking ${status.worker} (build ${status.build_id})…` };
    case 'pending':
      // The worker's own words: "waiting for the admin of w1 to approve session … (shepherd approve …)".
      return { phase: 'pending', tone: 'info', text: status.note };
    case 'opened': {
      const minutes = Math.max(1, Math.round(status.max_ms / 60_000));
      const where = `open in ${status.cwd}; the worker ends the session after ${minutes} min; exit the shell to leave`;
      return { phase: 'open', tone: 'info', text: status.note ? `${where}. ${status.note}` : where };
    }
    case 'refused':
      return { phase: 'refused', tone: 'error', text: `refused: ${status.reason}` };
    case 'exit':
      return { phase: 'ended', tone: status.exit_code === 0 ? 'info' : 'error', text: exitText(status) };
    case 'error':
      return { phase: 'failed', tone: 'error', text: `${status.message} (${status.code})` };
  }
}

/** "exited with status 0", "killed by SIGHUP", and the worker's reason when it gave one. */
export function exitText(exit: { exit_code: number | null; signal: string | null; reason: string | null }): string {
  const how = exit.exit_code !== null ? `exited with status ${exit.exit_code}` : exit.signal ? `killed by ${exit.signal}` : 'ended';
  return exit.reason ? `${how}: ${exit.reason}` : how;
}

/** How a past session ended, for the audit list. */
export function sessionOutcome(s: DebugSessionJson): string {
  if (s.refused_reason !== null) return `refused: ${s.refused_reason}`;
  if (s.ended_at === null) return 'open now';
  return exitText({ exit_code: s.exit_code, signal: null, reason: s.end_reason });
}

/** What typing produced in pipe mode: what to show, and what to send to the worker. */
export interface Edited {
  echo: string;
  send: string;
}

const ERASE = '\b \b';

/**
 * A cooked-mode line editor for a shell on pipes: it echoes what is typed,
 * lets Backspace and Ctrl-U edit the line, and sends the line with "\n" on
 * Enter (a terminal sends "\r", which a shell reading a pipe does not take
 * as the end of a line). Escape sequences (arrow keys) are dropped; Ctrl-C
 * drops the line (there is no terminal to deliver an interrupt through).
 */
export class LineEditor {
  #line: string[] = [];

  /** Feeds what the terminal produced (a key, or pasted text). */
  feed(data: string): Edited {
    let echo = '';
    let send = '';
    const chars = [...data];
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i]!;
      if (c === '\r' || c === '\n') {
        // A pasted "\r\n" is one line end.
        if (c === '\r' && chars[i + 1] === '\n') i++;
        echo += '\r\n';
        send += `${this.#line.join('')}\n`;
        this.#line = [];
      } else if (c === '\x7f' || c === '\b') {
        if (this.#line.pop() !== undefined) echo += ERASE;
      } else if (c === '\x15') {
        echo += ERASE.repeat(this.#line.length);
        this.#line = [];
      } else if (c === '\x03') {
        echo += '^C\r\n';
        this.#line = [];
      } else if (c === '\x1b') {
        i = skipEscape(chars, i);
      } else if (c === '\t' || c >= ' ') {
        this.#line.push(c);
        echo += c;
      }
    }
    return { echo, send };
  }
}

/** The index of an escape sequence's last character (CSI `ESC [ ... final`, SS3 `ESC O x`, or `ESC x`). */
function skipEscape(chars: readonly string[], at: number): number {
  const next = chars[at + 1];
  if (next === '[') {
    let i = at + 2;
    while (i < chars.length && !/[@-~]/.test(chars[i]!)) i++;
    return i;
  }
  if (next === 'O') return Math.min(at + 2, chars.length - 1);
  return next === undefined ? at : at + 1;
}

/**
 * Drops a shell's own echo of a line the page already echoed. On pipes, bash
 * run with `-i` writes back each line it reads while dash does not, and the
 * page cannot tell which shell it talks to: so it echoes as the person types
 * and, when the output right after a sent line starts with that line, drops
 * it. Output that does not match ends the expectation (dash, or a paste of
 * several lines whose echoes come between their outputs).
 */
export class EchoFilter {
  #expected = '';

  /** A line was sent (with its "\n"). */
  sent(line: string): void {
    this.#expected += line;
  }

  /** The output to show of what the worker sent. */
  filter(text: string): string {
    if (!this.#expected || !text) return text;
    if (text.startsWith(this.#expected)) {
      const rest = text.slice(this.#expected.length);
      this.#expected = '';
      return rest;
    }
    if (this.#expected.startsWith(text)) {
      this.#expected = this.#expected.slice(text.length);
      return '';
    }
    this.#expected = '';
    return text;
  }
}
