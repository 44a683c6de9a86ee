/**
 * The browser terminal of a debug session (xterm.js): opens the session's
 * WebSocket on the master, shows the master's status messages above the
 * terminal (asked, waiting for approval, refused with the worker's reason,
 * pipe mode, the exit), relays keystrokes and resizes, and writes the
 * worker's output. In pipe mode nothing on the worker edits the line, so
 * `LineEditor` does (and `EchoFilter` drops a shell's own echo of it).
 * Loaded on demand: xterm is not in the main
 * bundle.
 */
import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { useEffect, useRef, useState } from 'react';
import { EchoFilter, LineEditor, debugSocketUrl, describeStatus, openMessage, parseStatus, resizeMessage, type SessionPhase, type StatusLine } from './debug-protocol.js';
import './debug.css';

/** What the panel needs to open one session. */
export interface DebugTerminalProps {
  buildId: number;
  worker: string;
  token: string;
  user: string;
  /** A status message arrived (the audit changed). */
  onStatus(): void;
  /** The session is over (refused, exited, or the connection closed). */
  onEnded(): void;
  /** The person closed the panel. */
  onClose(): void;
}

const PHASE_LABEL: Record<SessionPhase, string> = {
  connecting: 'connecting…',
  asked: 'asking the worker…',
  pending: 'waiting for approval',
  open: 'open',
  refused: 'refused',
  ended: 'ended',
  failed: 'failed',
};

const OVER = new Set<SessionPhase>(['refused', 'ended', 'failed']);

/** One session's panel: status lines, the terminal, and End / Close. */
export function DebugTerminal({ buildId, worker, token, user, onStatus, onEnded, onClose }: DebugTerminalProps) {
  const host = useRef<HTMLDivElement>(null);
  const socket = useRef<WebSocket | null>(null);
  const leaving = useRef(false);
  const [phase, setPhase] = useState<SessionPhase>('connecting');
  const [lines, setLines] = useState<StatusLine[]>([]);
  const [everOpened, setEverOpened] = useState(false);
  const ended = useRef(onEnded);
  ended.current = onEnded;
  const changed = useRef(onStatus);
  changed.current = onStatus;

  useEffect(() => {
    const element = host.current;
    if (!element) return;
    const term = new Terminal({
      cursorBlink: true,
      fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, 'Liberation Mono', monospace",
      fontSize: 13,
      scrollback: 5000,
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(element);
    fitQuietly(fit);

    const encoder = new TextEncoder();
    const editor = new LineEditor();
    const echoes = new EchoFilter();
    const decoder = new TextDecoder();
    let mode: 'pty' | 'pipe' | null = null;
    let current: SessionPhase = 'connecting';
    const move = (next: SessionPhase) => {
      current = next;
      setPhase(next);
    };
    const say = (line: StatusLine) => setLines((all) => [...all, line]);

    const ws = new WebSocket(debugSocketUrl(window.location, buildId, token, user));
    socket.current = ws;
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => ws.send(openMessage(term.cols, term.rows));
    ws.onmessage = (event: MessageEvent<ArrayBuffer | string>) => {
      if (typeof event.data !== 'string') {
        const bytes = new Uint8Array(event.data);
        if (mode === 'pipe') term.write(echoes.filter(decoder.decode(bytes, { stream: true })));
        else term.write(bytes);
        return;
      }
      const status = parseStatus(event.data);
      if (!status) return;
      const line = describeStatus(status);
      say(line);
      move(line.phase);
      changed.current();
      if (status.type === 'opened') {
        mode = status.mode;
        setEverOpened(true);
        // A shell on pipes writes bare "\n".
        if (mode === 'pipe') term.options.convertEol = true;
        term.focus();
      }
    };
    ws.onclose = (event) => {
      socket.current = null;
      if (!OVER.has(current)) {
        const before = current === 'connecting';
        say({
          phase: before ? 'failed' : 'ended',
          tone: leaving.current ? 'info' : 'error',
          text: leaving.current
            ? 'you ended the session'
            : before
              ? `the master did not open the session (connection closed, code ${event.code}); is the API token right?`
              : 'the connection to the master closed',
        });
        move(before ? 'failed' : 'ended');
      }
      term.options.cursorBlink = false;
      ended.current();
    };

    const send = (text: string) => {
      if (ws.readyState === WebSocket.OPEN && text) ws.send(encoder.encode(text));
    };
    const typed = term.onData((data) => {
      if (current !== 'open') return;
      if (mode === 'pipe') {
        const { echo, send: line } = editor.feed(data);
        if (echo) term.write(echo);
        if (line) echoes.sent(line);
        send(line);
      } else send(data);
    });
    // Mouse reports in some modes come as binary strings (one byte per character).
    const binary = term.onBinary((data) => {
      if (current === 'open' && mode === 'pty' && ws.readyState === WebSocket.OPEN) ws.send(Uint8Array.from(data, (c) => c.charCodeAt(0)));
    });
    const resized = term.onResize(({ cols, rows }) => {
      if (ws.readyState === WebSocket.OPEN && (current === 'open' || current === 'pending')) ws.send(resizeMessage(cols, rows));
    });
    const observer = new ResizeObserver(() => fitQuietly(fit));
    observer.observe(element);

    return () => {
      observer.disconnect();
      typed.dispose();
      binary.dispose();
      resized.dispose();
      ws.onclose = null;
      ws.onmessage = null;
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000, 'closed in the browser');
      term.dispose();
    };
  }, [buildId, token, user]);

  const over = OVER.has(phase);
  return (
    <div className="debug-panel" role="region" aria-label={`Debug session on ${worker}`}>
      <div className="debug-bar">
        <strong>Debug session on {worker}</strong>
        <span className={`debug-phase debug-phase-${phase}`}>{PHASE_LABEL[phase]}</span>
        {over ? (
          <button type="button" onClick={onClose}>
            Close
          </button>
        ) : (
          <button
            type="button"
            onClick={() => {
              leaving.current = true;
              socket.current?.close(1000, 'ended in the browser');
            }}
          >
            End session
          </button>
        )}
      </div>
      <ul className="debug-status" role="log" aria-live="polite" aria-label="Session status">
        {lines.map((line, i) => (
          <li key={i} className={line.tone === 'error' ? 'error' : undefined}>
            {line.text}
          </li>
        ))}
      </ul>
      {/* A session refused (or never opened) has no terminal worth the space. */}
      <div className={`debug-term${over && !everOpened ? ' debug-term-unused' : ''}`} ref={host} />
    </div>
  );
}

/** Fits the terminal to its box; a box not laid out yet (hidden) is no error. */
function fitQuietly(fit: FitAddon): void {
  try {
    fit.fit();
  } catch {
    // not measurable yet; the next resize fits it
  }
}
