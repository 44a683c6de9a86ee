import { describe, expect, it } from 'vitest';
import type { Build, Change } from '../domain.js';
import {
  type BuildReport,
  buildMail,
  buildUrl,
  discordPayload,
  jsonDocument,
  logTail,
  slackPayload,
  stripAnsi,
  zulipPayload,
} from './messages.js';

const build: Build = {
  id: 31,
  requestId: 40,
  builder: 'unix-tests',
  number: 12,
  worker: 'w1',
  state: 'finished',
  result: 'FAILURE',
  properties: { branch: 'main', revision: 'abc1234def5678', got_revision: 'abc1234def5678' },
  startedAt: 1_000,
  finishedAt: 2_000,
  summary: null,
};

const change = (revision: string, author: string, message: string): Change => ({
  id: 1,
  source: 'src',
  repository: 'https://git.example.org/widget.git',
  branch: 'main',
  revision,
  author,
  committer: author,
  message,
  files: ['a.c'],
  when: 500,
  via: 'poll',
  receivedAt: 600,
});

const failing: BuildReport = {
  build,
  transition: 'failing',
  isTry: false,
  revision: 'abc1234def5678',
  branch: 'main',
  failingStep: { name: 'test', result: 'FAILURE', logTail: 'compiling\nassert x == 1 failed <&>' },
  blamelist: [change('0001111aaaa', 'Bob <bob@example.org>', 'Tidy\n\nlong body'), change('abc1234def5678', 'Ada <ada@example.org>', 'Fix the frobnicator\n\nDetails.')],
  patch: null,
  url: buildUrl('https://ci.example.org/', 31),
};

describe('text helpers', () => {
  it('strips ANSI escapes', () => {
    expect(stripAnsi('\u001b[31mred\u001b[0m \u001b]0;title\u0007plain \u001b[2K')).toBe('red plain ');
  });

  it('keeps the last lines, collapsing carriage-return progress', () => {
    const text = Array.from({ length: 50 }, (_, i) => `line ${i}`).join('\n') + '\n';
    const tail = logTail(text, 40).split('\n');
    expect(tail).toHaveLength(40);
    expect(tail[0]).toBe('line 10');
    expect(tail.at(-1)).toBe('line 49');
    expect(logTail('10%\r50%\r100%\ndone\r\n')).toBe('100%\ndone');
  });

  it('links to the build page', () => {
    expect(buildUrl('http://ci.example.org/', 5)).toBe('http://ci.example.org/builds/5');
  });
});

describe('buildMail', () => {
  it('says what broke, where and who changed what', () => {
    const mail = buildMail(failing);
    expect(mail.subject).toBe('[shepherd] unix-tests #12 failed: test (abc1234 by Ada and Bob)');
    expect(mail.text).toContain('Builder:  unix-tests');
    expect(mail.text).toContain('Build:    #12 on w1');
    expect(mail.text).toContain('Result:   FAILURE');
    expect(mail.text).toContain('Revision: abc1234def5678');
    expect(mail.text).toContain('Branch:   main');
    expect(mail.text).toContain('https://ci.example.org/builds/31');
    expect(mail.text).toContain('Step "test" ended FAILURE.');
    expect(mail.text).toContain('    assert x == 1 failed <&>');
    expect(mail.text).toContain('  abc1234 Ada <ada@example.org>: Fix the frobnicator');
    expect(mail.text).not.toContain('Details.');
    expect(mail.headers['X-Shepherd-Transition']).toBe('failing');
  });

  it('words recoveries and try builds', () => {
    const recovered = buildMail({ ...failing, build: { ...build, result: 'SUCCESS' }, transition: 'recovered', blamelist: failing.blamelist.slice(1) });
    expect(recovered.subject).toBe('[shepherd] unix-tests #12 recovered (abc1234 by Ada)');
    expect(recovered.text).not.toContain('ended FAILURE');
    const tried = buildMail({ ...failing, transition: null, isTry: true, blamelist: [], patch: { author: 'Cy <cy@example.org>', comment: 'try this' } });
    expect(tried.subject).toBe('[shepherd] try unix-tests #12 failed: test (patch by Cy)');
    expect(tried.text).toContain('Try patch by Cy <cy@example.org>');
  });
});

describe('webhook payloads', () => {
  it('json: Shepherd\'s document', () => {
    const doc = jsonDocument(failing);
    expect(doc).toMatchObject({
      version: 1,
      event: 'build.finished',
      transition: 'failing',
      try: false,
      headline: 'unix-tests #12 failed: test',
      build: { id: 31, builder: 'unix-tests', number: 12, result: 'FAILURE', url: 'https://ci.example.org/builds/31' },
      revision: 'abc1234def5678',
      failingStep: { name: 'test' },
    });
    expect(doc.blamelist.map((c) => c.author)).toEqual(['Bob <bob@example.org>', 'Ada <ada@example.org>']);
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
  });

  it('slack: text fallback and mrkdwn blocks, escaped', () => {
    const payload = slackPayload(failing);
    expect(payload.text).toBe('unix-tests #12 failed: test (abc1234 by Ada and Bob)');
    expect(payload.blocks[0]!.text.text).toMatch(/^\*<https:\/\/ci\.example\.org\/builds\/31\|unix-tests #12 failed: test>\*/);
    expect(payload.blocks[0]!.text.text).not.toContain('ada@example.org'); // display names only
    expect(payload.blocks[1]!.text.text).toBe('```compiling\nassert x == 1 failed &lt;&amp;&gt;```');
  });

  it('zulip: Slack-compatible text for /api/v1/external/slack_incoming', () => {
    const payload = zulipPayload(failing);
    expect(Object.keys(payload)).toEqual(['text']);
    expect(payload.text).toContain('*<https://ci.example.org/builds/31|unix-tests #12 failed: test>*');
    expect(payload.text).toContain('```\ncompiling\nassert x == 1 failed <&>\n```');
  });

  it('discord: content and one embed within its limits', () => {
    const long = { ...failing, failingStep: { ...failing.failingStep!, logTail: 'x'.repeat(10_000) } };
    const payload = discordPayload(long);
    expect(payload.content).toBe('unix-tests #12 failed: test (abc1234 by Ada and Bob)');
    expect(payload.embeds).toHaveLength(1);
    const embed = payload.embeds[0]!;
    expect(embed).toMatchObject({ title: 'unix-tests #12 failed: test', url: 'https://ci.example.org/builds/31', color: 0xd62828 });
    expect(embed.description.length).toBeLessThanOrEqual(4096);
    expect(embed.fields).toContainEqual({ name: 'Revision', value: 'abc1234', inline: true });
    expect(payload.allowed_mentions).toEqual({ parse: [] });
  });
});
