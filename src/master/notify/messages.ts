/**
 * What notifications say: the mail, Shepherd's own JSON document and the
 * Slack, Zulip and Discord incoming-webhook payloads, all built from one
 * `BuildReport` by pure functions.
 */
import type { Build, Change, Patch, Result } from '../domain.js';
import { countText } from '../tests/step-result.js';
import type { Transition } from './decide.js';
import { displayNameOf } from './mailer.js';

/** Everything a notification says about a finished build, gathered once from the store. */
export interface BuildReport {
  build: Build;
  /** Null for builds that do not count (try builds). */
  transition: Transition | null;
  isTry: boolean;
  /** The revision built (`got_revision`, else `revision`, else the newest blamelist change's). */
  revision: string | null;
  branch: string | null;
  /** The first step that failed, with the end of its log. */
  failingStep: { name: string; result: Result; logTail: string } | null;
  /** The changes this build is the first to build, oldest first. */
  blamelist: Change[];
  /** The try patch, for try builds. */
  patch: Pick<Patch, 'author' | 'comment'> | null;
  /** The build's page in the web UI. */
  url: string;
  /** A red build's test results, when it has any (absent or null: none to tell). */
  tests?: FailedTests | null;
}

/** What the failure mail says about a build's tests. */
export interface FailedTests {
  /** Failed and errored tests (re-runs not counted). */
  failed: number;
  total: number;
  /** The first failures, at most MAIL_FAILED_TESTS. */
  failures: {
    name: string;
    /** The first line of its failure message. */
    message: string | null;
    /** "fails only where arch=s390x", when it also passed on other workers at the same revision and a dimension separates them. */
    separation: string | null;
    /** Workers where it passed at the same revision. */
    passedOn: string[];
  }[];
}

/** Failed tests named in mail, at most. */
export const MAIL_FAILED_TESTS = 10;

/** Lines of a failing step's log quoted in mail. */
export const MAIL_LOG_LINES = 40;
/** Lines quoted in chat messages, which should stay short. */
export const CHAT_LOG_LINES = 10;

/** The web UI page of a build. */
export function buildUrl(publicUrl: string, buildId: number): string {
  return `${publicUrl.replace(/\/+$/, '')}/builds/${buildId}`;
}

/** The revision a build built: what the checkout reported, else what was asked for. */
export function revisionOf(build: Build, blamelist: readonly Change[] = []): string | null {
  return build.properties.got_revision || build.properties.revision || blamelist.at(-1)?.revision || null;
}

// CSI sequences (colours, cursor moves), OSC sequences (titles, links) and lone two-byte escapes.
const ANSI_RE = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g;

/** Text without terminal escape sequences, so logs read cleanly in mail and chat. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI_RE, '');
}

/**
 * The last `lines` lines of a log, escapes stripped and carriage-return
 * progress bars collapsed to what the terminal would finally show.
 */
export function logTail(text: string, lines = MAIL_LOG_LINES): string {
  const clean = stripAnsi(text)
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map((line) => line.slice(line.lastIndexOf('\r') + 1));
  if (clean.at(-1) === '') clean.pop();
  return clean.slice(-lines).join('\n');
}

/** A 7-character revision, as people quote them. */
export function shortRevision(revision: string): string {
  return revision.slice(0, 7);
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0]!.trim();
}

/** How the build ended, as a verb phrase: "failed", "recovered", "failed again"... */
export function outcomePhrase(report: Pick<BuildReport, 'build' | 'transition'>): string {
  const exception = report.build.result === 'EXCEPTION';
  switch (report.transition) {
    case 'failing':
      return exception ? 'failed with an exception' : 'failed';
    case 'still_failing':
      return exception ? 'failed again, with an exception' : 'failed again';
    case 'recovered':
      return 'recovered';
    case 'still_passing':
      return report.build.result === 'WARNINGS' ? 'passed with warnings' : 'passed';
    case null:
      break;
  }
  switch (report.build.result) {
    case 'SUCCESS':
      return 'passed';
    case 'WARNINGS':
      return 'passed with warnings';
    case 'FAILURE':
      return 'failed';
    case 'EXCEPTION':
      return 'failed with an exception';
    case 'CANCELLED':
      return 'was cancelled';
    case 'RETRY':
      return 'will be retried';
    default:
      return 'finished';
  }
}

/** Whether the report is about a broken build (red in chat, log quoted). */
export function isFailure(report: Pick<BuildReport, 'build'>): boolean {
  return report.build.result === 'FAILURE' || report.build.result === 'EXCEPTION';
}

/** "Ada", "Ada and Bob", "Ada and 2 others": the newest change's author first. */
export function authorsPhrase(report: Pick<BuildReport, 'blamelist' | 'patch'>): string | null {
  if (report.patch) return displayNameOf(report.patch.author);
  const names: string[] = [];
  for (const change of [...report.blamelist].reverse()) {
    const name = displayNameOf(change.author);
    if (!names.includes(name)) names.push(name);
  }
  if (names.length === 0) return null;
  if (names.length === 1) return names[0]!;
  if (names.length === 2) return `${names[0]} and ${names[1]}`;
  return `${names[0]} and ${names.length - 1} others`;
}

/** "unix-tests #12 failed: test", the one line every format leads with. */
export function headline(report: BuildReport): string {
  const { build } = report;
  const step = isFailure(report) && report.failingStep ? `: ${report.failingStep.name}` : '';
  return `${report.isTry ? 'try ' : ''}${build.builder} #${build.number} ${outcomePhrase(report)}${step}`;
}

/** "(abc1234 by Ada)", "(patch by Ada)", or empty when nothing is known. */
function attribution(report: BuildReport): string {
  const who = authorsPhrase(report);
  const what = report.isTry ? 'patch' : report.revision ? shortRevision(report.revision) : null;
  if (what && who) return `(${what} by ${who})`;
  if (what) return `(${what})`;
  return who ? `(by ${who})` : '';
}

/** A mail's subject, text and headers (recipients are the caller's business). */
export function buildMail(report: BuildReport): { subject: string; text: string; headers: Record<string, string> } {
  const { build } = report;
  const subject = ['[shepherd]', headline(report), attribution(report)].filter(Boolean).join(' ');
  const lines = [
    `${headline(report)}.`,
    '',
    `Builder:  ${build.builder}`,
    `Build:    #${build.number} on ${build.worker}`,
    `Result:   ${build.result ?? 'unknown'}`,
  ];
  if (report.revision) lines.push(`Revision: ${report.revision}`);
  if (report.branch) lines.push(`Branch:   ${report.branch}`);
  lines.push(`Details:  ${report.url}`);
  if (build.summary) lines.push('', build.summary);
  if (report.patch) {
    lines.push('', `Try patch by ${report.patch.author}`);
    if (report.patch.comment) lines.push(`  ${firstLine(report.patch.comment)}`);
  }
  if (report.failingStep && isFailure(report)) {
    lines.push('', `Step "${report.failingStep.name}" ended ${report.failingStep.result}.`);
    if (report.failingStep.logTail) {
      lines.push(`The end of its log:`, '', ...report.failingStep.logTail.split('\n').map((line) => `    ${line}`));
    }
  }
  if (report.tests && isFailure(report)) lines.push('', ...testLines(report.tests, report.build.id));
  if (report.blamelist.length > 0) {
    lines.push('', 'Changes in this build:');
    for (const change of report.blamelist) {
      lines.push(`  ${shortRevision(change.revision)} ${change.author}: ${firstLine(change.message)}`);
    }
  }
  lines.push('', '-- ', 'Shepherd');
  const headers: Record<string, string> = {
    'X-Shepherd-Builder': build.builder,
    'X-Shepherd-Build': String(build.number),
    'X-Shepherd-Result': build.result ?? 'unknown',
  };
  if (report.transition) headers['X-Shepherd-Transition'] = report.transition;
  return { subject, text: `${lines.join('\n')}\n`, headers };
}

/** "Tests: 3 failed of 4,126", then each failure with its message and what separates where it fails. */
function testLines(tests: FailedTests, buildId: number): string[] {
  const lines = [`Tests: ${countText(tests.failed, tests.total)}`];
  for (const test of tests.failures) {
    lines.push(`  ${test.name}${test.message ? `: ${test.message}` : ''}`);
    if (test.separation) lines.push(`    ${test.separation} (passed on ${test.passedOn.join(', ')})`);
    else if (test.passedOn.length > 0) lines.push(`    passed on ${test.passedOn.join(', ')} at the same revision`);
  }
  const more = tests.failed - tests.failures.length;
  if (more > 0) lines.push(`  ... and ${more.toLocaleString('en-US')} more: shepherd tests ${buildId}`);
  return lines;
}

/** Shepherd's own webhook document (format `json`): stable field names, one version number. */
export interface NotificationDocument {
  version: 1;
  event: 'build.finished';
  transition: Transition | null;
  try: boolean;
  headline: string;
  build: {
    id: number;
    builder: string;
    number: number;
    worker: string;
    result: Result | null;
    summary: string | null;
    startedAt: number;
    finishedAt: number | null;
    properties: Record<string, string>;
    url: string;
  };
  revision: string | null;
  branch: string | null;
  failingStep: { name: string; result: Result; logTail: string } | null;
  blamelist: { revision: string; branch: string; author: string; message: string; repository: string; when: number }[];
  patch: { author: string; comment: string } | null;
}

/** The body of a `json` webhook. */
export function jsonDocument(report: BuildReport): NotificationDocument {
  const { build } = report;
  return {
    version: 1,
    event: 'build.finished',
    transition: report.transition,
    try: report.isTry,
    headline: headline(report),
    build: {
      id: build.id,
      builder: build.builder,
      number: build.number,
      worker: build.worker,
      result: build.result,
      summary: build.summary,
      startedAt: build.startedAt,
      finishedAt: build.finishedAt,
      properties: build.properties,
      url: report.url,
    },
    revision: report.revision,
    branch: report.branch,
    failingStep: report.failingStep,
    blamelist: report.blamelist.map((c) => ({
      revision: c.revision,
      branch: c.branch,
      author: c.author,
      message: c.message,
      repository: c.repository,
      when: c.when,
    })),
    patch: report.patch ? { author: report.patch.author, comment: report.patch.comment } : null,
  };
}

// ---- chat formats

/** Slack's mrkdwn needs only these three escaped (https://api.slack.com/reference/surfaces/formatting). */
function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Keeps the end of a text within `max` characters (log tails: the end matters). */
function keepEnd(text: string, max: number): string {
  return text.length <= max ? text : `…${text.slice(text.length - max + 1)}`;
}

/** Keeps the start of a text within `max` characters. */
function keepStart(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function chatLog(report: BuildReport): string | null {
  if (!report.failingStep || !isFailure(report) || !report.failingStep.logTail) return null;
  return logTail(report.failingStep.logTail, CHAT_LOG_LINES).replace(/```/g, "'''");
}

/** Chat lines about the build, in Slack mrkdwn (Zulip's Slack-compatible hook converts it). */
function mrkdwnLines(report: BuildReport, escape: (text: string) => string): { title: string; details: string[] } {
  const title = `*<${report.url}|${escape(headline(report))}>*${attribution(report) ? ` ${escape(attribution(report))}` : ''}`;
  const details: string[] = [];
  if (report.branch) details.push(`Branch: \`${escape(report.branch)}\``);
  if (report.build.summary) details.push(escape(report.build.summary));
  for (const change of report.blamelist.slice(-10)) {
    details.push(`• \`${shortRevision(change.revision)}\` ${escape(displayNameOf(change.author))}: ${escape(firstLine(change.message))}`);
  }
  if (report.blamelist.length > 10) details.push(`… and ${report.blamelist.length - 10} earlier changes`);
  return { title, details };
}

/** A Slack incoming-webhook message: `text` as the notification fallback, `blocks` for the layout. */
export interface SlackPayload {
  text: string;
  blocks: { type: 'section'; text: { type: 'mrkdwn'; text: string } }[];
}

/** The body of a `slack` webhook. */
export function slackPayload(report: BuildReport): SlackPayload {
  const { title, details } = mrkdwnLines(report, slackEscape);
  // A section's text is limited to 3000 characters.
  const blocks: SlackPayload['blocks'] = [{ type: 'section', text: { type: 'mrkdwn', text: keepStart([title, ...details].join('\n'), 3000) } }];
  const log = chatLog(report);
  if (log) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `\`\`\`${keepEnd(slackEscape(log), 2900)}\`\`\`` } });
  return { text: `${headline(report)} ${attribution(report)}`.trim(), blocks };
}

/** A Zulip message through its Slack-compatible incoming webhook (`/api/v1/external/slack_incoming`). */
export interface ZulipPayload {
  text: string;
}

/**
 * The body of a `zulip` webhook: plain `text` in Slack mrkdwn, which Zulip's
 * slack_incoming integration turns into Zulip markdown (links, bold).
 */
export function zulipPayload(report: BuildReport): ZulipPayload {
  const { title, details } = mrkdwnLines(report, (text) => text);
  const log = chatLog(report);
  const parts = [[title, ...details].join('\n')];
  if (log) parts.push(`\`\`\`\n${log}\n\`\`\``);
  return { text: parts.join('\n\n') };
}

/** A Discord webhook message: a short `content` line and one embed. */
export interface DiscordPayload {
  content: string;
  embeds: {
    title: string;
    url: string;
    description: string;
    color: number;
    fields: { name: string; value: string; inline: boolean }[];
  }[];
  /** No @everyone or role pings from commit messages. */
  allowed_mentions: { parse: [] };
}

const COLOURS = { failure: 0xd62828, warnings: 0xe0a100, success: 0x2e9e44, other: 0x8a8a8a } as const;

function colourOf(result: Result | null): number {
  if (result === 'FAILURE' || result === 'EXCEPTION') return COLOURS.failure;
  if (result === 'WARNINGS') return COLOURS.warnings;
  if (result === 'SUCCESS') return COLOURS.success;
  return COLOURS.other;
}

/** The body of a `discord` webhook (limits: content 2000, title 256, description 4096, field value 1024 characters). */
export function discordPayload(report: BuildReport): DiscordPayload {
  const description: string[] = [];
  if (report.build.summary) description.push(report.build.summary);
  for (const change of report.blamelist.slice(-10)) {
    description.push(`\`${shortRevision(change.revision)}\` ${displayNameOf(change.author)}: ${firstLine(change.message)}`);
  }
  const log = chatLog(report);
  let text = description.join('\n');
  if (log) text = `${keepStart(text, 1500)}${text ? '\n' : ''}\`\`\`\n${keepEnd(log, 2400)}\n\`\`\``;
  const fields: DiscordPayload['embeds'][number]['fields'] = [];
  if (report.revision) fields.push({ name: 'Revision', value: shortRevision(report.revision), inline: true });
  if (report.branch) fields.push({ name: 'Branch', value: keepStart(report.branch, 1024), inline: true });
  fields.push({ name: 'Worker', value: keepStart(report.build.worker, 1024), inline: true });
  return {
    content: keepStart(`${headline(report)} ${attribution(report)}`.trim(), 2000),
    embeds: [
      {
        title: keepStart(headline(report), 256),
        url: report.url,
        description: keepStart(text, 4096),
        color: colourOf(report.build.result),
        fields,
      },
    ],
    allowed_mentions: { parse: [] },
  };
}

/** Webhook body formats, as configured. */
export type WebhookFormat = 'json' | 'slack' | 'zulip' | 'discord';

/** The JSON body of a webhook in the given format. */
export function webhookPayload(format: WebhookFormat, report: BuildReport): unknown {
  switch (format) {
    case 'json':
      return jsonDocument(report);
    case 'slack':
      return slackPayload(report);
    case 'zulip':
      return zulipPayload(report);
    case 'discord':
      return discordPayload(report);
  }
}
