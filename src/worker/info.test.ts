import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { WorkerInfo } from '../protocol/index.js';
import { detectWorkerInfo, normalizeArch } from './info.js';
import { AGENT_VERSION } from './version.js';

describe('worker info', () => {
  it('uses the conventional machine names', () => {
    expect(normalizeArch('x64')).toBe('x86_64');
    expect(normalizeArch('arm64')).toBe('aarch64');
    expect(normalizeArch('ppc64', true)).toBe('ppc64le');
    expect(normalizeArch('ppc64', false)).toBe('ppc64');
    expect(normalizeArch('something-new')).toBe('something-new');
  });

  it('detects the machine and merges configured dimensions over the detected ones', () => {
    const info = detectWorkerInfo({ admin: 'Ada <ada@example.org>', dimensions: { gpu: 'none', os: 'linux-musl' } });
    expect(WorkerInfo.parse(info)).toEqual(info);
    expect(info).toMatchObject({ os: process.platform, hostname: hostname(), admin: 'Ada <ada@example.org>' });
    expect(info.cpus).toBeGreaterThan(0);
    expect(info.dimensions).toEqual({ os: 'linux-musl', arch: normalizeArch(process.arch), gpu: 'none' });
    expect(detectWorkerInfo()).not.toHaveProperty('admin');
  });

  it('reads the agent version from the package when not bundled', () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(AGENT_VERSION).toBe(version);
    expect(detectWorkerInfo().agent_version).toBe(version);
  });
});
