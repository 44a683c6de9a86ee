/**
 * JUnit XML, the format most test runners can write (pytest --junitxml,
 * CPython's regrtest --junit-xml, Maven Surefire, Go's go-junit-report,
 * ctest): `testsuites` > `testsuite` (possibly nested) > `testcase`, whose
 * child `failure`, `error` or `skipped` says how it ended.
 *
 * fast-xml-parser does the XML (entities, CDATA, attributes) so this module
 * only walks the tree; it is pure JavaScript and well kept.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { TestOutcome, TestResult } from '../types.js';
import { secondsToMs, truncateMessage } from './text.js';

/** A JUnit XML document that cannot be read. */
export class JunitError extends Error {
  override name = 'JunitError';
}

type Node = Record<string, unknown>;

const ALWAYS_ARRAYS = new Set(['testsuite', 'testcase', 'failure', 'error', 'skipped']);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  textNodeName: '#text',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  // Numeric character references (`&#10;` in pytest's message attributes) as well as the five XML entities.
  htmlEntities: true,
  isArray: (name) => ALWAYS_ARRAYS.has(name),
});

/** The tests of one JUnit XML document; JunitError (saying what is wrong and where) when it is not one. */
export function parseJunit(xml: string | Buffer): TestResult[] {
  const text = typeof xml === 'string' ? xml : xml.toString('utf8');
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    throw new JunitError(`not well-formed XML: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`);
  }
  const document = parser.parse(text) as Node;
  const results: TestResult[] = [];
  const roots = document.testsuites as Node | Node[] | undefined;
  if (roots !== undefined) {
    for (const root of asArray(roots)) walkSuites(asNode(root), null, results);
  } else if (document.testsuite !== undefined) {
    walkSuites(document, null, results);
  } else {
    throw new JunitError('no <testsuites> or <testsuite> element: not JUnit XML');
  }
  return results;
}

/** Visits the `testsuite` children of `parent` (recursively: suites may nest), collecting their test cases. */
function walkSuites(parent: Node, outer: string | null, results: TestResult[], top = true): void {
  for (const suite of asArray(parent.testsuite)) {
    const node = asNode(suite);
    const name = attribute(node, 'name') ?? outer;
    for (const testcase of asArray(node.testcase)) results.push(testCase(asNode(testcase), name));
    walkSuites(node, name, results, false);
  }
  // Some writers put test cases straight under <testsuites>.
  if (top && parent.testsuite === undefined) {
    for (const testcase of asArray(parent.testcase)) results.push(testCase(asNode(testcase), null));
  }
}

/** One `testcase`: its full name is `classname.name` unless the name already carries the class (regrtest's do). */
function testCase(node: Node, suite: string | null): TestResult {
  const base = attribute(node, 'name') ?? '(unnamed)';
  const classname = attribute(node, 'classname');
  const name = classname && !base.startsWith(`${classname}.`) ? `${classname}.${base}` : base;
  const durationMs = secondsToMs(attribute(node, 'time'));
  const [result, detail] = outcomeOf(node);
  return { name, suite: suite ?? classname ?? null, result, durationMs, message: detail };
}

/** How a test case ended, and its message: the first failure or error (an error wins: the test could not run), else skipped, else passed. */
function outcomeOf(node: Node): [TestOutcome, string | null] {
  const error = asArray(node.error)[0];
  if (error !== undefined) return ['error', messageOf(error)];
  const failure = asArray(node.failure)[0];
  if (failure !== undefined) return ['failed', messageOf(failure)];
  const skipped = asArray(node.skipped)[0];
  if (skipped !== undefined) return ['skipped', messageOf(skipped)];
  // Some writers say it with an attribute only.
  const status = (attribute(node, 'status') ?? attribute(node, 'result') ?? '').toLowerCase();
  if (status === 'skipped' || status === 'notrun' || status === 'disabled') return ['skipped', null];
  return ['passed', null];
}

/** The message attribute, then the element's text (usually the traceback) unless it only repeats the message. */
function messageOf(element: unknown): string | null {
  if (typeof element === 'string') return truncateMessage(element);
  const node = asNode(element);
  const message = attribute(node, 'message')?.trim() ?? '';
  const type = attribute(node, 'type')?.trim() ?? '';
  const body = typeof node['#text'] === 'string' ? node['#text'].trim() : '';
  const head = message || type;
  if (body === '') return truncateMessage(head);
  if (head === '' || body.includes(head)) return truncateMessage(body);
  return truncateMessage(`${head}\n${body}`);
}

function attribute(node: Node, name: string): string | undefined {
  const value = node[`@_${name}`];
  return typeof value === 'string' ? value : value === undefined ? undefined : String(value);
}

function asArray(value: unknown): unknown[] {
  return value === undefined || value === null ? [] : Array.isArray(value) ? value : [value];
}

/** An element as a node: an empty element (`<testcase/>`) parses as '' and a text-only one as a string. */
function asNode(value: unknown): Node {
  if (value !== null && typeof value === 'object') return value as Node;
  return typeof value === 'string' && value.trim() !== '' ? { '#text': value } : {};
}
