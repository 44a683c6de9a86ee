/**
 * ANSI escape sequences in build logs: a pure SGR parser (colours, bold, dim,
 * italic, underline, inverse, strike) whose state carries over from one line
 * to the next, as in a terminal. Every other escape sequence and control
 * character is dropped; a carriage return keeps only what follows the last
 * one in the line (the final state of a progress bar).
 */

/** A colour: a palette index 0–255, or `#rrggbb` from a 24-bit sequence. */
export type AnsiColor = number | string;

/** The graphic rendition in force at some point of the log. Immutable: shared between lines. */
export interface AnsiState {
  readonly fg: AnsiColor | null;
  readonly bg: AnsiColor | null;
  readonly bold: boolean;
  readonly dim: boolean;
  readonly italic: boolean;
  readonly underline: boolean;
  readonly inverse: boolean;
  readonly strike: boolean;
}

/** The state at the start of a log: nothing set. */
export const PLAIN: AnsiState = Object.freeze({
  fg: null,
  bg: null,
  bold: false,
  dim: false,
  italic: false,
  underline: false,
  inverse: false,
  strike: false,
});

/** A run of text drawn in one state. */
export interface AnsiSpan {
  text: string;
  state: AnsiState;
}

const ESC = '\x1b';
/** Control Sequence: ESC [ parameters intermediates final. */
const CSI = /\x1b\[([0-?]*)[ -/]*([@-~])/y;
/** Operating System Command (window titles, hyperlinks): ended by BEL or ESC \, or the line's end. */
const OSC = /\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?/y;
/** Character-set designations (ESC ( B) and other two- or three-byte escapes. */
const OTHER = /\x1b(?:[ -/][0-~]|[0-~])?/y;
/** Control characters a line may still hold (tab excepted; \r handled apart). */
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f]/;
const CONTROLS_G = /[\x00-\x08\x0b-\x1f\x7f]/g;

/** Whether the line needs the parser at all (most lines do not). */
export function needsParsing(line: string): boolean {
  return CONTROLS.test(line);
}

function color256(params: number[], i: number): { color: AnsiColor | null; used: number } {
  const mode = params[i + 1];
  if (mode === 5) {
    const n = params[i + 2];
    return { color: n !== undefined && n >= 0 && n <= 255 ? n : null, used: 2 };
  }
  if (mode === 2) {
    const [r, g, b] = [params[i + 2], params[i + 3], params[i + 4]].map((v) => Math.max(0, Math.min(255, v ?? 0)));
    return { color: `#${[r, g, b].map((v) => v!.toString(16).padStart(2, '0')).join('')}`, used: 4 };
  }
  return { color: null, used: 0 };
}

/** The state after one SGR sequence (`ESC [ params m`). */
export function applySgr(state: AnsiState, paramText: string): AnsiState {
  // `38:2::r:g:b` (colon sub-parameters) is read like `38;2;r;g;b`.
  const text = paramText.includes('::') ? paramText.replaceAll('::', ':') : paramText;
  const params = text === '' ? [0] : text.split(/[;:]/).map((p) => (p === '' ? 0 : Number(p)));
  const next: { -readonly [K in keyof AnsiState]: AnsiState[K] } = { ...state };
  for (let i = 0; i < params.length; i++) {
    const code = params[i]!;
    if (code === 0) Object.assign(next, PLAIN);
    else if (code === 1) next.bold = true;
    else if (code === 2) next.dim = true;
    else if (code === 3) next.italic = true;
    else if (code === 4) next.underline = true;
    else if (code === 7) next.inverse = true;
    else if (code === 9) next.strike = true;
    else if (code === 21 || code === 22) {
      next.bold = false;
      next.dim = false;
    } else if (code === 23) next.italic = false;
    else if (code === 24) next.underline = false;
    else if (code === 27) next.inverse = false;
    else if (code === 29) next.strike = false;
    else if (code >= 30 && code <= 37) next.fg = code - 30;
    else if (code === 38 || code === 48) {
      const { color, used } = color256(params, i);
      if (color !== null) next[code === 38 ? 'fg' : 'bg'] = color;
      i += used;
    } else if (code === 39) next.fg = null;
    else if (code >= 40 && code <= 47) next.bg = code - 40;
    else if (code === 49) next.bg = null;
    else if (code >= 90 && code <= 97) next.fg = code - 90 + 8;
    else if (code >= 100 && code <= 107) next.bg = code - 100 + 8;
  }
  return sameState(next, state) ? state : sameState(next, PLAIN) ? PLAIN : Object.freeze(next);
}

function sameState(a: AnsiState, b: AnsiState): boolean {
  return (
    a.fg === b.fg &&
    a.bg === b.bg &&
    a.bold === b.bold &&
    a.dim === b.dim &&
    a.italic === b.italic &&
    a.underline === b.underline &&
    a.inverse === b.inverse &&
    a.strike === b.strike
  );
}

/** Walks `text`, calling `emit` for visible text, and returns the state at its end. */
function scan(text: string, start: AnsiState, emit: ((text: string, state: AnsiState) => void) | null): AnsiState {
  let state = start;
  let i = 0;
  while (i < text.length) {
    const esc = text.indexOf(ESC, i);
    const plainEnd = esc < 0 ? text.length : esc;
    if (plainEnd > i && emit) {
      const piece = text.slice(i, plainEnd);
      emit(CONTROLS.test(piece) ? piece.replace(CONTROLS_G, '') : piece, state);
    }
    if (esc < 0) break;
    CSI.lastIndex = esc;
    const csi = CSI.exec(text);
    if (csi) {
      if (csi[2] === 'm') state = applySgr(state, csi[1]!);
      i = CSI.lastIndex;
      continue;
    }
    OSC.lastIndex = esc;
    if (text[esc + 1] === ']' && OSC.exec(text)) {
      i = OSC.lastIndex;
      continue;
    }
    OTHER.lastIndex = esc;
    OTHER.exec(text);
    i = Math.max(OTHER.lastIndex, esc + 1);
  }
  return state;
}

/** Splits the line at its last carriage return: what was overwritten, and what shows. */
function carriage(line: string): { hidden: string; shown: string } {
  let end = line.length;
  while (end > 0 && line.charCodeAt(end - 1) === 13) end--;
  const last = line.lastIndexOf('\r', end - 1);
  if (last < 0) return { hidden: '', shown: end === line.length ? line : line.slice(0, end) };
  return { hidden: line.slice(0, last), shown: line.slice(last + 1, end) };
}

/** The spans of one line, drawn from `start` (the state the previous line ended in), and the state it ends in. */
export function parseAnsiLine(line: string, start: AnsiState = PLAIN): { spans: AnsiSpan[]; end: AnsiState } {
  if (!needsParsing(line)) return { spans: line === '' ? [] : [{ text: line, state: start }], end: start };
  const { hidden, shown } = carriage(line);
  // Sequences in the overwritten part still change the state.
  const afterHidden = hidden === '' ? start : scan(hidden, start, null);
  const spans: AnsiSpan[] = [];
  const end = scan(shown, afterHidden, (text, state) => {
    if (text === '') return;
    const last = spans[spans.length - 1];
    if (last && last.state === state) last.text += text;
    else spans.push({ text, state });
  });
  return { spans, end };
}

/** The state at the end of a line, without building spans (fast for lines without escapes). */
export function ansiEndState(line: string, start: AnsiState): AnsiState {
  if (line.indexOf(ESC) < 0) return start;
  return scan(line, start, null);
}

/** The text a line shows, without escapes (what search looks in). */
export function plainText(line: string): string {
  if (!needsParsing(line)) return line;
  return parseAnsiLine(line).spans.map((span) => span.text).join('');
}

const CUBE = [0, 95, 135, 175, 215, 255];

/** `#rrggbb` of a 256-colour palette entry from 16 up (0–15 follow the theme, as CSS variables). */
export function paletteHex(n: number): string {
  const hex = (v: number) => v.toString(16).padStart(2, '0');
  if (n >= 232) {
    const v = 8 + (n - 232) * 10;
    return `#${hex(v)}${hex(v)}${hex(v)}`;
  }
  const i = n - 16;
  return `#${hex(CUBE[Math.floor(i / 36)]!)}${hex(CUBE[Math.floor(i / 6) % 6]!)}${hex(CUBE[i % 6]!)}`;
}

/** How a span is drawn: CSS classes (theme colours, weights) and inline colours (256 and 24-bit). */
export function spanLook(state: AnsiState): { className: string; style: { color?: string; backgroundColor?: string } | undefined } {
  if (state === PLAIN) return { className: '', style: undefined };
  const fg = state.inverse ? (state.bg ?? 'bg') : state.fg;
  const bg = state.inverse ? (state.fg ?? 'fg') : state.bg;
  const classes: string[] = [];
  const style: { color?: string; backgroundColor?: string } = {};
  const paint = (color: AnsiColor | 'fg' | 'bg' | null, layer: 'fg' | 'bg') => {
    if (color === null) return;
    if (color === 'fg' || color === 'bg') classes.push(`ansi-${layer}-default-${color}`);
    else if (typeof color === 'string') style[layer === 'fg' ? 'color' : 'backgroundColor'] = color;
    else if (color < 16) classes.push(`ansi-${layer}-${color}`);
    else style[layer === 'fg' ? 'color' : 'backgroundColor'] = paletteHex(color);
  };
  paint(fg, 'fg');
  paint(bg, 'bg');
  if (state.bold) classes.push('ansi-bold');
  if (state.dim) classes.push('ansi-dim');
  if (state.italic) classes.push('ansi-italic');
  if (state.underline) classes.push('ansi-underline');
  if (state.strike) classes.push('ansi-strike');
  return { className: classes.join(' '), style: style.color || style.backgroundColor ? style : undefined };
}
