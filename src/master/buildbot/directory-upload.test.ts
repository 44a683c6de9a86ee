/**
 * Reading the archives `upload_directory` sends: real tar bytes (written by
 * tar-stream's packer, and by Python's tarfile as the worker writes them),
 * spooled to a real file and read back.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pack, type Header } from 'tar-stream';
import { afterEach, describe, expect, it } from 'vitest';
import { readTarEntries, tarByteCap, tarNameProblem, TarSpool, treeGlobDir } from './directory-upload.js';

/** A tar of `entries` (a Buffer body makes a file of it). */
async function tarOf(entries: { header: Partial<Header> & { name: string }; body?: Buffer }[]): Promise<Buffer> {
  const packer = pack();
  const chunks: Buffer[] = [];
  packer.on('data', (chunk) => chunks.push(chunk as Buffer));
  const ended = new Promise<void>((resolve) => packer.on('end', resolve));
  for (const { header, body } of entries) {
    if (body) packer.entry({ ...header, size: body.length }, body);
    else packer.entry(header, Buffer.alloc(0));
  }
  packer.finalize();
  await ended;
  return Buffer.concat(chunks);
}

/** Spools `archive` as the connection does, and reads its entries. */
async function spooled(archive: Buffer, dir = ['out']) {
  const spool = await TarSpool.create(archive.length);
  spools.push(spool);
  for (let at = 0; at < archive.length; at += 1000) await spool.write(archive.subarray(at, at + 1000));
  await spool.complete();
  const read = await readTarEntries(spool.read(), dir);
  return { spool, ...read };
}

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const spools: TarSpool[] = [];
afterEach(async () => {
  await Promise.all(spools.splice(0).map((s) => s.remove()));
});

describe('treeGlobDir', () => {
  it('names the directory of a glob that takes a whole tree, and nothing else', () => {
    expect(treeGlobDir('out/**')).toEqual(['out']);
    expect(treeGlobDir('./build/out/**/*')).toEqual(['build', 'out']);
    expect(treeGlobDir('out/**/*.txt')).toBeNull();
    expect(treeGlobDir('out/*')).toBeNull();
    expect(treeGlobDir('**')).toBeNull();
    expect(treeGlobDir('out*/**')).toBeNull();
    expect(treeGlobDir('out/**/x/**')).toBeNull();
  });
});

describe('readTarEntries', () => {
  it('gives the regular files named under the directory, with bytes read back exactly', async () => {
    const one = Buffer.from('one\n');
    const two = Buffer.alloc(70_000, 7);
    const archive = await tarOf([
      { header: { name: '/', type: 'directory' } },
      { header: { name: 'a.txt' }, body: one },
      { header: { name: 'sub/', type: 'directory' } },
      { header: { name: 'sub/big.bin' }, body: two },
      { header: { name: 'sub/empty' }, body: Buffer.alloc(0) },
      { header: { name: 'sub/again', type: 'link', linkname: 'a.txt' } },
    ]);
    const { spool, files, problems } = await spooled(archive);
    expect(problems).toEqual([]);
    expect(files.map((f) => [f.name, f.size])).toEqual([['out/a.txt', 4], ['out/sub/big.bin', 70_000], ['out/sub/empty', 0], ['out/sub/again', 4]]);
    expect(await bytesOf(spool.readFile(files[0]!, 1024))).toEqual(one);
    expect(await bytesOf(spool.readFile(files[1]!, 1024))).toEqual(two);
    expect(await bytesOf(spool.readFile(files[2]!, 1024))).toEqual(Buffer.alloc(0));
    expect(await bytesOf(spool.readFile(files[3]!, 1024))).toEqual(one);
  });

  it('refuses entries with ".." or an absolute name, and ignores symbolic links, saying so', async () => {
    const archive = await tarOf([
      { header: { name: '../escape.txt' }, body: Buffer.from('no') },
      { header: { name: 'sub/../../escape2.txt' }, body: Buffer.from('no') },
      { header: { name: '/etc/passwd' }, body: Buffer.from('no') },
      { header: { name: 'link', type: 'symlink', linkname: '/etc/passwd' } },
      { header: { name: 'kept.txt' }, body: Buffer.from('yes') },
    ]);
    const { files, problems } = await spooled(archive);
    expect(files.map((f) => f.name)).toEqual(['out/kept.txt']);
    expect(problems).toEqual([
      'out: the archive entry "../escape.txt" reaches outside the directory with ".."; refused',
      'out: the archive entry "sub/../../escape2.txt" reaches outside the directory with ".."; refused',
      'out: the archive entry "/etc/passwd" is absolute; refused',
      'out/link: a symbolic link; a directory upload does not follow links, so it is not collected',
    ]);
  });

  it('rejects an archive that is not a tar, or is cut short, instead of guessing', async () => {
    await expect(spooled(Buffer.alloc(2048, 0x41))).rejects.toThrow(/invalid tar header/i);
    const archive = await tarOf([{ header: { name: 'a.bin' }, body: Buffer.alloc(5000, 1) }]);
    await expect(spooled(archive.subarray(0, 3000))).rejects.toThrow();
  });

  it('reads the archive the worker writes (Python tarfile, pax headers, hard links)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shepherd-tar-test-'));
    try {
      mkdirSync(join(dir, 'out', 'sub', 'deep'), { recursive: true });
      writeFileSync(join(dir, 'out', 'a.txt'), 'a\n');
      writeFileSync(join(dir, 'out', 'sub', 'deep', 'c.bin'), Buffer.alloc(1500, 3));
      symlinkSync('a.txt', join(dir, 'out', 'link'));
      execFileSync('ln', [join(dir, 'out', 'a.txt'), join(dir, 'out', 'sub', 'hard')]);
      // As the worker's WorkerDirectoryUploadCommand does: archive.add(path, '').
      execFileSync('/usr/bin/python3', ['-c', 'import sys,tarfile\na=tarfile.open(sys.argv[2],"w")\na.add(sys.argv[1],"")\na.close()', join(dir, 'out'), join(dir, 'out.tar')]);
      const { files, problems } = await readTarEntries(Readable.from([readFileSync(join(dir, 'out.tar'))]), ['out']);
      expect(files.map((f) => [f.name, f.size])).toEqual([['out/a.txt', 2], ['out/sub/deep/c.bin', 1500], ['out/sub/hard', 2]]);
      expect(problems).toEqual(['out/link: a symbolic link; a directory upload does not follow links, so it is not collected']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('TarSpool', () => {
  it('refuses bytes past its cap', async () => {
    const spool = await TarSpool.create(10);
    spools.push(spool);
    await spool.write(Buffer.alloc(10));
    await expect(spool.write(Buffer.alloc(1))).rejects.toThrow('the archive is larger than its limit of 10 bytes');
  });

  it('caps an entry at its total limit plus room for the headers', () => {
    expect(tarByteCap({ max_total_bytes: 1000 })).toBeGreaterThan(1000 + 1000 * 1536);
  });

  it('names no problem for a plain relative name', () => {
    expect(tarNameProblem('a/b.txt')).toBeNull();
    expect(tarNameProblem('C:\\x')).toBe('is absolute');
  });
});
