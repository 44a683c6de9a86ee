/**
 * A log's text as the viewer holds it: one plain array of lines (never React
 * state per line), the unfinished last line, and the ANSI state at regular
 * checkpoints so any line can be drawn in the colours the lines before it
 * left in force, without storing a state per line.
 */
import { ansiEndState, PLAIN, type AnsiState } from './ansi.js';

/** Lines between two stored ANSI states. */
const CHECKPOINT = 256;

/** The lines of a log, growing at the end. */
export class LogText {
  /** Complete lines. */
  readonly lines: string[] = [];
  /** The unfinished last line ('' if none). */
  partial = '';
  /** ANSI state at the start of line k × CHECKPOINT. */
  private checkpoints: AnsiState[] = [PLAIN];
  /** ANSI state after the last complete line. */
  private endState: AnsiState = PLAIN;

  /** Appends complete lines and replaces the unfinished last line. */
  append(lines: readonly string[], partial: string): void {
    let state = this.endState;
    const target = this.lines;
    for (const line of lines) {
      if (target.length % CHECKPOINT === 0) this.checkpoints[target.length / CHECKPOINT] = state;
      target.push(line);
      state = ansiEndState(line, state);
    }
    this.endState = state;
    this.partial = partial;
  }

  /** How many lines to show (the unfinished one included). */
  get count(): number {
    return this.lines.length + (this.partial === '' ? 0 : 1);
  }

  /** Line `i` (0-based). */
  line(i: number): string {
    return i < this.lines.length ? this.lines[i]! : this.partial;
  }

  /** The ANSI state in force at the start of line `i`. */
  stateAt(i: number): AnsiState {
    if (i >= this.lines.length) return this.endState;
    const k = Math.floor(i / CHECKPOINT);
    let state = this.checkpoints[k]!;
    for (let j = k * CHECKPOINT; j < i; j++) state = ansiEndState(this.lines[j]!, state);
    return state;
  }
}
