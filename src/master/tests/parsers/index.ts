/**
 * The test-result parsers by format: JUnit XML files, or a step's output
 * read as regrtest, unittest, pytest or TAP. Each is pure: text in, tests out.
 */
import type { OutputFormat, TestResult } from '../types.js';
import { parsePytest } from './pytest.js';
import { parseRegrtest } from './regrtest.js';
import { parseTap } from './tap.js';
import { parseUnittest } from './unittest.js';

export { JunitError, parseJunit } from './junit.js';
export { MESSAGE_KEEP, truncateMessage } from './text.js';
export { parsePytest, parseRegrtest, parseTap, parseUnittest };

/** The tests a step's output holds, read as `format`. */
export function parseOutput(format: OutputFormat, text: string): TestResult[] {
  switch (format) {
    case 'regrtest':
      return parseRegrtest(text);
    case 'unittest':
      return parseUnittest(text);
    case 'pytest':
      return parsePytest(text);
    case 'tap':
      return parseTap(text);
  }
}
