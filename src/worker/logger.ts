/**
 * The agent's log: plain one-line messages, because the agent runs on
 * volunteers' machines under systemd, launchd, a terminal or a CI runner,
 * and all of them handle lines on stderr well.
 */

/** Receives one line, without a trailing newline. */
export type Logger = (line: string) => void;

/** Writes `<ISO time> <line>` to stderr. */
export const stderrLogger: Logger = (line) => {
  process.stderr.write(`${new Date().toISOString()} ${line}\n`);
};
