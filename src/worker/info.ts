/**
 * What the agent tells the master about its machine (`hello.info`). The
 * detected `os` and `arch` dimensions let builders pick workers by platform
 * without every volunteer having to configure them.
 */
import { arch as osArch, availableParallelism, cpus, endianness, hostname } from 'node:os';
import type { WorkerInfo } from '../protocol/index.js';
import { AGENT_VERSION } from './version.js';

// Node's names → the names toolchains and `uname -m` use, which is what
// people write in builder selectors.
const ARCH_NAMES: Record<string, string> = {
  x64: 'x86_64',
  arm64: 'aarch64',
  ia32: 'i686',
  arm: 'armv7l',
  ppc: 'ppc',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loongarch64',
  mips: 'mips',
  mipsel: 'mipsel',
};

/** Maps Node's `process.arch` to the conventional machine name (`x64` → `x86_64`). */
export function normalizeArch(nodeArch: string, littleEndian = endianness() === 'LE'): string {
  if (nodeArch === 'ppc64') return littleEndian ? 'ppc64le' : 'ppc64';
  return ARCH_NAMES[nodeArch] ?? nodeArch;
}

/** What the worker's own config adds to the detected information. */
export interface InfoOverrides {
  admin?: string;
  /** Merged over the detected `os` and `arch`. */
  dimensions?: Record<string, string>;
  /** Maintenance windows from the worker's own config. */
  maintenance?: { cron: string; durationMs: number }[];
}

/** Detects this machine's description for `hello`. */
export function detectWorkerInfo({ admin, dimensions = {}, maintenance }: InfoOverrides = {}): WorkerInfo {
  const os = process.platform;
  const arch = normalizeArch(osArch());
  let cpuCount: number;
  try {
    cpuCount = availableParallelism();
  } catch {
    cpuCount = cpus().length;
  }
  return {
    os,
    arch,
    cpus: cpuCount,
    hostname: hostname(),
    agent_version: AGENT_VERSION,
    dimensions: { os, arch, ...dimensions },
    ...(admin ? { admin } : {}),
    ...(maintenance && maintenance.length > 0 ? { maintenance: maintenance.map((w) => ({ cron: w.cron, duration_ms: w.durationMs })) } : {}),
  };
}
