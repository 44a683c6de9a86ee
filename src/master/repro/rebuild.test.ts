import { describe, expect, it } from 'vitest';
import type { Build, BuildRequest } from '../domain.js';
import { ShepherdError } from '../errors.js';
import { rebuildInput } from './rebuild.js';

const request: BuildRequest = {
  id: 5, builder: 'unix', priority: 3, properties: { revision: 'a'.repeat(40), branch: 'main', source: 'proj', flavour: 'debug' },
  reason: 'change', submittedBy: null, submittedAt: 1, state: 'complete', buildId: 9, result: 'FAILURE',
  scheduler: 'on-commit', collapseKey: 'proj\nmain', patchId: 7, changeIds: [1, 2],
};
const build: Build = {
  id: 9, requestId: 5, builder: 'unix', number: 4, worker: 'w1', state: 'finished', result: 'FAILURE',
  properties: { ...request.properties, builder: 'unix', worker: 'w1', got_revision: 'a'.repeat(40) },
  startedAt: 1, finishedAt: 2, summary: null,
};

describe('rebuildInput', () => {
  it('keeps the request\'s code, patch and changes, adds the overrides, and is never collapsed', () => {
    expect(rebuildInput(build, request, { properties: { flavour: 'release' }, env: { V: '1' }, submittedBy: 'ada' })).toEqual({
      builder: 'unix',
      properties: { revision: 'a'.repeat(40), branch: 'main', source: 'proj', flavour: 'release', 'env.V': '1' },
      reason: 'rebuild of unix #4 (build 9) by ada',
      submittedBy: 'ada',
      priority: 3,
      collapseKey: null,
      patchId: 7,
      changeIds: [1, 2],
    });
  });
  it('builds what a collapsed build built (its newest revision), not the head request\'s', () => {
    const collapsed = { ...build, properties: { ...build.properties, revision: 'b'.repeat(40) } };
    expect(rebuildInput(collapsed, request, { submittedBy: 'x' }).properties.revision).toBe('b'.repeat(40));
  });
  it('pins a build of the branch head to the revision it got', () => {
    const forced = { ...request, properties: {} };
    const head = { ...build, properties: { revision: '', branch: '', builder: 'unix', worker: 'w1', got_revision: 'c'.repeat(40) } };
    expect(rebuildInput(head, forced, { submittedBy: 'x' }).properties).toEqual({ revision: 'c'.repeat(40) });
  });
  it('lets an explicit revision win over the pin', () => {
    expect(rebuildInput(build, request, { properties: { revision: 'd'.repeat(40) }, submittedBy: 'x' }).properties.revision).toBe('d'.repeat(40));
  });
  it('refuses a variable name no shell could export, naming it', () => {
    expect(() => rebuildInput(build, request, { env: { '1X': 'y' }, submittedBy: 'x' })).toThrow(ShepherdError);
    expect(() => rebuildInput(build, request, { env: { '1X': 'y' }, submittedBy: 'x' })).toThrow(/^env\.1X: expected a variable name/);
  });
});
