/**
 * Reading the files steps sent back: the API's artifact list and downloads,
 * and test results reading JUnit files. Rows come from the store; bytes from
 * under the data directory.
 */
import { createReadStream } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ShepherdError } from '../errors.js';
import type { StepFile, StepFileKind, Store } from '../store/store.js';
import { buildFilesDir } from './stored-name.js';

/** What reading stored files needs. */
export interface StoredFilesDeps {
  store: Store;
  /** `master.data_dir` (absolute once the config is loaded). */
  dataDir: string;
}

/** An open stored file: its row, its size on disk and a stream of its bytes. */
export interface OpenedFile {
  file: StepFile;
  size: number;
  stream: Readable;
}

/** The files steps sent back, as the master's readers see them. */
export class StoredFiles {
  readonly #store: Store;
  readonly #dataDir: string;

  constructor(deps: StoredFilesDeps) {
    this.#store = deps.store;
    this.#dataDir = deps.dataDir;
  }

  /** A build's files (skipped ones included, with their reason), oldest first. */
  list(buildId: number): Promise<StepFile[]> {
    return this.#store.listStepFiles({ buildId });
  }

  /** One step's files of a kind, skipped ones included (`path` null, `skipped` says why). */
  forStep(stepId: number, kind: StepFileKind): Promise<StepFile[]> {
    return this.#store.listStepFiles({ stepId, kind });
  }

  /** Opens a stored file for reading; SHEPHERD_E_NOT_FOUND when it has no row, was skipped, or is gone from disk. */
  async open(fileId: number): Promise<OpenedFile> {
    const { file, path } = await this.#locate(fileId);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch {
      throw gone(file);
    }
    return { file, size, stream: createReadStream(path) };
  }

  /** A stored file's whole content (test results files; the upload limits bound their size). */
  async read(fileId: number): Promise<Buffer> {
    const { file, path } = await this.#locate(fileId);
    try {
      return await readFile(path);
    } catch {
      throw gone(file);
    }
  }

  /** Deletes builds' files: their rows, then their directories. */
  async removeBuilds(buildIds: readonly number[]): Promise<void> {
    if (buildIds.length === 0) return;
    await this.#store.deleteStepFiles(buildIds);
    for (const id of buildIds) await rm(join(this.#dataDir, buildFilesDir(id)), { recursive: true, force: true });
  }

  async #locate(fileId: number): Promise<{ file: StepFile; path: string }> {
    const file = await this.#store.getStepFile(fileId);
    if (!file) throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `no stored file with id ${fileId}`, { details: { file_id: fileId } });
    if (file.path === null) {
      throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `${file.name} of build ${file.buildId} was not stored: ${file.skipped ?? 'skipped'}`, {
        details: { file_id: fileId, skipped: file.skipped },
      });
    }
    return { file, path: join(this.#dataDir, file.path) };
  }
}

function gone(file: StepFile): ShepherdError {
  return new ShepherdError('SHEPHERD_E_NOT_FOUND', `${file.name} of build ${file.buildId} is no longer on disk (removed by retention?)`, {
    details: { file_id: file.id },
  });
}
