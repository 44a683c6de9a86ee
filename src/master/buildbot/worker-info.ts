/**
 * What a Buildbot worker's `get_worker_info` answer means to Shepherd: its
 * `info/admin` file is the admin contact, `info/host` the description,
 * `/etc/os-release` (the `os_*` fields) the platform dimensions. A Buildbot
 * worker does not report its machine architecture; the worker's config
 * entry supplies `arch` (config dimensions are merged over these).
 */
import type { WorkerInfo } from '../../protocol/index.js';

/** The fields of a Buildbot worker's info the master uses, as they arrive. */
export type BuildbotWorkerInfo = Record<string, unknown>;

/** The reported worker's base directory (absolute, on the worker's machine), or throws naming the field. */
export function workerBasedir(info: BuildbotWorkerInfo): string {
  const basedir = info.basedir;
  if (typeof basedir !== 'string' || basedir === '') throw new Error('get_worker_info: no `basedir` in the answer');
  return basedir;
}

/** Whether the worker runs on Windows (`system: nt`): its paths use `\`. */
export function isWindowsWorker(info: BuildbotWorkerInfo): boolean {
  return info.system === 'nt';
}

/** The first line of an info file, trimmed; undefined when absent, empty, or still Buildbot's placeholder. */
function infoLine(value: unknown, placeholder: RegExp): string | undefined {
  if (typeof value !== 'string') return undefined;
  const line = value.split('\n').map((l) => l.trim()).find((l) => l !== '');
  if (!line || placeholder.test(line)) return undefined;
  return line;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/**
 * The platform name Shepherd agents report (`process.platform`), from what
 * a Buildbot worker tells: `nt` is Windows; an `os-release` is Linux unless
 * it says FreeBSD; otherwise unknown.
 */
export function platformOf(info: BuildbotWorkerInfo): string {
  if (info.system === 'nt') return 'win32';
  const id = text(info.os_id);
  if (id === 'freebsd') return 'freebsd';
  if (id !== undefined) return 'linux';
  return 'unknown';
}

/** Translates the answer to `get_worker_info` into Shepherd's WorkerInfo. */
export function workerInfoFrom(info: BuildbotWorkerInfo): WorkerInfo {
  const os = platformOf(info);
  const dimensions: Record<string, string> = {};
  if (os !== 'unknown') dimensions.os = os;
  const distro = text(info.os_id);
  const distroVersion = text(info.os_version_id);
  if (distro) dimensions.distro = distro;
  if (distro && distroVersion) dimensions.distro_version = distroVersion;
  const admin = infoLine(info.admin, /^Your Name Here\b/);
  const host = infoLine(info.host, /^Please put a description of this build host here$/);
  const environ = info.environ !== null && typeof info.environ === 'object' ? (info.environ as Record<string, unknown>) : {};
  return {
    os,
    arch: '',
    cpus: typeof info.numcpus === 'number' && Number.isSafeInteger(info.numcpus) && info.numcpus >= 0 ? info.numcpus : 0,
    // The description is what identifies a Buildbot worker's machine; its environment's host name if none.
    hostname: host ?? text(environ.HOSTNAME) ?? text(environ.COMPUTERNAME) ?? '',
    agent_version: `buildbot-worker ${text(info.version) ?? 'unknown'}`,
    dimensions,
    ...(admin ? { admin } : {}),
  };
}
