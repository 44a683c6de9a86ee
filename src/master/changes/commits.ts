/**
 * Reading a repository's branches and commits through git, in as few
 * processes as possible: one `ls-remote` for the heads, one `rev-list` per
 * moved branch, and one `git log` for the details of every new commit.
 */
import { runGit } from './git.js';

/** A commit's details, as a change needs them. */
export interface CommitInfo {
  revision: string;
  /** "Name <mail>". */
  author: string;
  committer: string;
  message: string;
  /** Paths touched: against the first parent for merges, every file for a root commit; both sides of a rename. */
  files: string[];
  /** Committer time, epoch ms. */
  when: number;
}

/** The branch heads a repository advertises: branch name → revision. */
export async function listRemoteHeads(url: string): Promise<Map<string, string>> {
  return parseLsRemote(await runGit(['ls-remote', '--heads', '--', url]));
}

/** Parses `git ls-remote --heads` output ("SHA<TAB>refs/heads/NAME" lines). */
export function parseLsRemote(text: string): Map<string, string> {
  const heads = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^([0-9a-f]{40,64})\trefs\/heads\/(.+)$/.exec(line);
    if (match) heads.set(match[2]!, match[1]!);
  }
  return heads;
}

/**
 * The commits reachable from `head` but from none of `exclude`, oldest first,
 * at most the newest `max`. Revisions of `exclude` the repository does not
 * have are skipped (a mirror created after the heads were recorded).
 */
export async function newRevisions(gitDir: string, head: string, exclude: readonly string[], max: number): Promise<string[]> {
  // Through stdin: a source with thousands of branches must not overflow the command line.
  const input = [head, ...exclude.map((rev) => `^${rev}`)].join('\n') + '\n';
  const out = await runGit(
    ['--git-dir', gitDir, 'rev-list', '--reverse', '--topo-order', `--max-count=${max}`, '--ignore-missing', '--stdin'],
    { input },
  );
  return out.split('\n').filter((line) => line !== '');
}

// A record starts with RS; fields are NUL-separated. A message cannot hold a
// NUL, so "NUL RS" only ever appears between two records.
const LOG_FORMAT = '%x1e%H%x00%an <%ae>%x00%cn <%ce>%x00%ct%x00%B%x00';

/** The details of these commits, in the order given, with one `git log`. */
export async function readCommits(gitDir: string, revisions: readonly string[]): Promise<CommitInfo[]> {
  if (revisions.length === 0) return [];
  const out = await runGit(
    [
      '--git-dir', gitDir,
      '-c', 'log.showRoot=true',
      'log', '--no-walk=unsorted', '--no-renames', '--diff-merges=first-parent', '--name-only', '-z',
      '--no-color', '--encoding=UTF-8', `--format=${LOG_FORMAT}`, '--stdin',
    ],
    { input: revisions.join('\n') + '\n' },
  );
  return parseCommitLog(out);
}

/** Parses the output of `readCommits`'s `git log`. */
export function parseCommitLog(text: string): CommitInfo[] {
  if (!text.startsWith('\x1e')) return [];
  return text
    .slice(1)
    .split('\0\x1e')
    .map(function parseRecord(record) {
      const [revision, author, committer, time, message, ...rest] = record.split('\0');
      // After the message: NUL, a newline, then NUL-terminated paths (nothing for an empty commit).
      const files = rest.join('\0').replace(/^\0*\n?/, '').split('\0').filter((path) => path !== '');
      return {
        revision: revision!,
        author: author!,
        committer: committer!,
        message: (message ?? '').trimEnd(),
        files,
        when: Number(time) * 1000,
      };
    });
}
