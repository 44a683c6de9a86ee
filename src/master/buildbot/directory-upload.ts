/**
 * Collecting a whole directory tree from a Buildbot worker in one command:
 * for a glob like `out/**` the worker tars `out` (`upload_directory`,
 * uncompressed) and sends the archive in blocks. The archive is spooled to a
 * file on the master, capped at the entry's total limit plus room for tar
 * headers (the worker is told the same `maxsize`), then read twice: once for
 * its entries' names and sizes, so the step contract's `planUploads` sees
 * the whole tree in name order exactly as with per-file uploads, and once
 * per kept file, to hand its bytes to the upload sink. Spooling to disk
 * rather than streaming straight into the sink is what keeps the plan exact:
 * the tar's order is not name order, and a tree too big for the cap has sent
 * nothing yet, so the caller can fall back to one `upload_file` per file.
 *
 * Only regular files (and hard links to one earlier in the archive) are
 * collected; an entry whose name is absolute or has a `..` segment is
 * refused, a symbolic link is not followed, other entries are ignored.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import { splitGlob, type CollectEntry } from '../../protocol/index.js';

/** A regular file inside a spooled archive: its collected name, size and where its bytes start. */
export interface TarFile {
  name: string;
  size: number;
  offset: number;
}

// Python's tarfile writes a pax header (for the mtime) before every entry: header, pax header, pax data, and padding.
const TAR_BYTES_PER_ENTRY = 4 * 1024;
// Directories are entries too: allow as many as files.
const TAR_ENTRIES = 2 * 1000;
// Two zero blocks end the archive, and it is padded to a 10 KiB record.
const TAR_END_BYTES = 20 * 512;

/**
 * The literal directory of a glob that names a whole tree (`DIR/**` or
 * `DIR/**\/*`, DIR without wildcards, as `/`-separated segments), or null
 * when the glob is anything else. Such a glob matches every file below DIR,
 * so one archive of DIR carries exactly its files.
 */
export function treeGlobDir(glob: string): string[] | null {
  const segments = splitGlob(glob);
  const tail = segments.at(-1) === '*' && segments.at(-2) === '**' ? 2 : segments.at(-1) === '**' ? 1 : 0;
  if (tail === 0) return null;
  const dir = segments.slice(0, -tail);
  if (dir.length === 0 || dir.some((segment) => /[*?]/.test(segment))) return null;
  return dir;
}

/** The most archive bytes one entry's tree may take: its kept files at most, plus the tar's own headers. */
export function tarByteCap(entry: Pick<CollectEntry, 'max_total_bytes'>): number {
  return entry.max_total_bytes + TAR_ENTRIES * TAR_BYTES_PER_ENTRY + TAR_END_BYTES;
}

/** Why a tar entry's name may not be collected, or null. */
export function tarNameProblem(name: string): string | null {
  if (name.includes('\0')) return 'contains a NUL byte';
  if (name.startsWith('/') || name.startsWith('\\') || /^[A-Za-z]:/.test(name)) return 'is absolute';
  if (name.split(/[/\\]/).includes('..')) return 'reaches outside the directory with ".."';
  return null;
}

/** A tar name's segments without empty and `.` ones (`./a//b/` is `a/b`). */
function tarSegments(name: string): string[] {
  return name.split('/').filter((segment) => segment !== '' && segment !== '.');
}

/**
 * The regular files of an archive of the directory `dir` (segments), named
 * `dir/...` as the step contract names collected files, in archive order,
 * with lines for the step's log about entries refused or not followed.
 * Rejects when the archive is not a well-formed tar (truncated, bad
 * checksums, not a tar at all).
 */
export async function readTarEntries(source: Readable, dir: readonly string[]): Promise<{ files: TarFile[]; problems: string[] }> {
  const files: TarFile[] = [];
  const problems: string[] = [];
  // Hard links name an earlier entry by its name in the archive.
  const regular = new Map<string, TarFile>();
  const parser = extract();
  source.on('error', (error) => parser.destroy(error));
  source.pipe(parser);
  for await (const entry of parser) {
    const { header } = entry;
    entry.resume();
    if (header.type !== 'file' && header.type !== 'contiguous-file' && header.type !== 'link' && header.type !== 'symlink') continue;
    const problem = tarNameProblem(header.name);
    if (problem) {
      problems.push(`${dir.join('/')}: the archive entry ${JSON.stringify(header.name.slice(0, 200))} ${problem}; refused`);
      continue;
    }
    const segments = tarSegments(header.name);
    if (segments.length === 0) continue;
    const name = [...dir, ...segments].join('/');
    if (header.type === 'symlink') {
      problems.push(`${name}: a symbolic link; a directory upload does not follow links, so it is not collected`);
      continue;
    }
    let file: TarFile;
    if (header.type === 'link') {
      const target = regular.get(tarSegments(header.linkname ?? '').join('/'));
      if (!target) continue;
      file = { name, size: target.size, offset: target.offset };
    } else {
      // tar-stream gives where an entry's data starts in the archive (not in its types).
      const offset = (header as { byteOffset?: unknown }).byteOffset;
      if (typeof offset !== 'number') throw new Error(`no data offset for the archive entry ${JSON.stringify(header.name)}`);
      file = { name, size: header.size ?? 0, offset };
      regular.set(segments.join('/'), file);
    }
    files.push(file);
  }
  return { files, problems };
}

/** An archive being received into a file of its own; `write` refuses bytes past `cap`. */
export class TarSpool {
  #handle: FileHandle | null = null;
  #bytes = 0;

  private constructor(
    readonly dir: string,
    readonly path: string,
    readonly cap: number,
  ) {}

  /** A new, empty spool file under the system's temporary directory. */
  static async create(cap: number): Promise<TarSpool> {
    const dir = await mkdtemp(join(tmpdir(), 'shepherd-tar-'));
    const spool = new TarSpool(dir, join(dir, 'archive.tar'), cap);
    spool.#handle = await open(spool.path, 'wx');
    return spool;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Appends a block; rejects past the cap (the worker was told it, so this is a worker that ignored it). */
  async write(data: Buffer): Promise<void> {
    if (!this.#handle) throw new Error('the archive is already complete');
    if (this.#bytes + data.length > this.cap) throw new Error(`the archive is larger than its limit of ${this.cap} bytes`);
    const at = this.#bytes;
    this.#bytes += data.length;
    await this.#handle.write(data, 0, data.length, at);
  }

  /** No more blocks: the file can be read. */
  async complete(): Promise<void> {
    await this.#handle?.close();
    this.#handle = null;
  }

  /** The whole archive, for `readTarEntries`. */
  read(): Readable {
    return createReadStream(this.path);
  }

  /** One file's bytes, in blocks of `blockBytes`. */
  readFile(file: TarFile, blockBytes: number): Readable {
    if (file.size === 0) return Readable.from([]);
    // createReadStream's end is inclusive.
    return createReadStream(this.path, { start: file.offset, end: file.offset + file.size - 1, highWaterMark: blockBytes });
  }

  /** Removes the spool file and its directory. */
  async remove(): Promise<void> {
    await this.#handle?.close().catch(() => {});
    this.#handle = null;
    await rm(this.dir, { recursive: true, force: true });
  }
}
