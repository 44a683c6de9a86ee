/**
 * TAP, the Test Anything Protocol (versions 12 to 14, and node --test's
 * output): `ok N - description`, `not ok N - description`, directives
 * `# SKIP why` and `# TODO why`, an indented YAML block of diagnostics
 * (`---` to `...`) after a test, and indented subtests (`# Subtest: name`)
 * whose parent line only sums them up: a parent is a suite, not a test.
 */
import type { TestOutcome, TestResult } from '../types.js';
import { logLines, truncateMessage } from './text.js';

const TEST_LINE = /^(\s*)(ok|not ok)\b(?:\s+(\d+))?(?:\s*-)?\s*(.*)$/;
const BAIL_OUT = /^\s*Bail out!\s*(.*)$/;

interface Entry {
  indent: number;
  result: TestResult;
}

/** The tests of TAP output, in order; a `Bail out!` is an error entry of its own. */
export function parseTap(text: string): TestResult[] {
  const lines = logLines(text);
  const entries: Entry[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const bail = BAIL_OUT.exec(line);
    if (bail) {
      entries.push({ indent: 0, result: { name: 'Bail out!', suite: null, result: 'error', durationMs: null, message: bail[1] || null } });
      continue;
    }
    const match = TEST_LINE.exec(line);
    if (!match) continue;
    const indent = match[1]!.length;
    const { description, directive, reason } = splitDirective(match[4]!);
    const passed = match[2] === 'ok';
    let result: TestOutcome = passed ? 'passed' : 'failed';
    let message: string | null = null;
    if (directive === 'skip') {
      result = 'skipped';
      message = reason;
    } else if (directive === 'todo') {
      // A failing TODO test is not a failure (TAP's rule); a passing one is a pass.
      result = passed ? 'passed' : 'skipped';
      message = passed ? null : `TODO${reason ? ` ${reason}` : ''}`;
    }
    // The YAML block: indented deeper than the test line, from `---` to `...`.
    let durationMs: number | null = null;
    if (i + 1 < lines.length && /^\s*---\s*$/.test(lines[i + 1]!) && leading(lines[i + 1]!) >= indent) {
      const yaml: string[] = [];
      let j = i + 2;
      for (; j < lines.length && !/^\s*\.\.\.\s*$/.test(lines[j]!); j++) yaml.push(lines[j]!);
      i = j;
      durationMs = yamlDuration(yaml);
      if (result === 'failed') message = dedent(yaml).join('\n');
    }
    const name = description || (match[3] ? `test ${match[3]}` : '(unnamed)');
    entries.push({ indent, result: { name, suite: null, result, durationMs, message: truncateMessage(message) } });
  }
  return leaves(entries);
}

/** Splits `desc # SKIP why` (case-insensitive; SKIP also as `skipped`, TODO as `todo`). An escaped `\#` is text. */
function splitDirective(text: string): { description: string; directive: 'skip' | 'todo' | null; reason: string | null } {
  const match = /^(.*?)\s*(?<!\\)#\s*(skip\S*|todo)\b\s*(.*)$/i.exec(text);
  if (!match) return { description: text.replace(/\\#/g, '#').trim(), directive: null, reason: null };
  const directive = match[2]!.toLowerCase().startsWith('skip') ? 'skip' : 'todo';
  return { description: match[1]!.replace(/\\#/g, '#').trim(), directive, reason: match[3]!.trim() || null };
}

/** `duration_ms: 12.5` in the YAML block (node --test writes it), else null. */
function yamlDuration(yaml: readonly string[]): number | null {
  for (const line of yaml) {
    const match = /^\s*duration_ms:\s*([\d.]+)\s*$/.exec(line);
    if (match) return Math.round(Number(match[1]));
  }
  return null;
}

function leading(line: string): number {
  return line.length - line.trimStart().length;
}

function dedent(lines: readonly string[]): string[] {
  const indent = Math.min(...lines.filter((l) => l.trim() !== '').map(leading));
  return lines.map((l) => l.slice(Number.isFinite(indent) ? indent : 0));
}

/**
 * Drops parents of subtests: an entry directly preceded by deeper-indented
 * entries sums them up. Its children get its name as their suite (nested
 * suites joined with " > ").
 */
function leaves(entries: readonly Entry[]): TestResult[] {
  const isParent = new Array<boolean>(entries.length).fill(false);
  const suiteOf = new Array<string | null>(entries.length).fill(null);
  for (let i = 0; i < entries.length; i++) {
    const { indent } = entries[i]!;
    for (let j = i - 1; j >= 0 && entries[j]!.indent > indent; j--) {
      isParent[i] = true;
      // Only direct children (the next level down) take this parent's name; deeper ones add it in front.
      const name = entries[i]!.result.name;
      suiteOf[j] = suiteOf[j] === null ? name : `${name} > ${suiteOf[j]}`;
    }
  }
  const results: TestResult[] = [];
  entries.forEach((entry, i) => {
    if (!isParent[i]) results.push({ ...entry.result, suite: suiteOf[i] ?? null });
  });
  return results;
}
