/**
 * `shepherd repro BUILD`: a POSIX sh script that runs a finished (or running)
 * build's steps again on any machine, in a fresh directory, so a failure on a
 * worker nobody can log into can be studied at a developer's desk.
 *
 * Each step is rendered exactly as the master rendered it for the worker
 * (`renderStep` against the build's properties; a checkout step gets the same
 * script `checkout/script.ts` generates, with the try patch embedded as a
 * here-document) and run the way the agent runs it: in
 * `<builder>/<workdir>` under the current directory, in a subshell of its
 * own, string commands through `/bin/sh -c`, with `$SHEPHERD_STEP_DIR` set.
 * Steps halt and resume as `scheduling/step-plan.ts` decides. Pure: the route
 * gathers the build and this only writes text.
 */
import { posix } from 'node:path';
import { redactUrl } from '../changes/redact-url.js';
import { checkoutScript, DEFAULT_PATCH_FILE } from '../checkout/script.js';
import { shellCommand, shellQuote } from '../checkout/shell-quote.js';
import type { BuilderConfig, ChangeSourceConfig, StepConfig } from '../config/schema.js';
import type { Build, Change, Result, Step } from '../domain.js';
import { checkoutTarget } from '../scheduling/checkout-target.js';
import { renderStep } from '../scheduling/interpolate.js';

/** Everything the script is made from; the route reads it from the store and the config. */
export interface ReproInput {
  build: Build;
  /** The build's steps as stored (their results say which were skipped). */
  steps: readonly Step[];
  /** The builder as configured now; undefined when it was removed from the config. */
  builder: Readonly<BuilderConfig> | undefined;
  /** The configured change sources, for checkout steps. */
  sources: readonly ChangeSourceConfig[];
  /** The build's try patch, if it had one. */
  patch: Buffer | null;
  /** The changes the build was for, oldest first. */
  blamelist: readonly Change[];
  /** The worker that ran it, with its dimensions (empty when it is no longer known). */
  worker: { name: string; dimensions: Record<string, string> };
  /** The master's public address, for the header. */
  masterUrl: string;
}

/** How one step appears in the script. */
export interface ReproStep {
  index: number;
  name: string;
  /** Its result in the build (null: it had not finished). */
  resultInBuild: Result | null;
  /** Why it is commented out instead of run (it was skipped in the build), or null. */
  commentedOut: string | null;
  /** Its working directory, relative to the directory the script runs in. */
  dir: string;
  env: Record<string, string>;
  /** A string runs through `/bin/sh -c`, a list is executed directly; null: it cannot run (see `problem`). */
  command: string | string[] | null;
  /** Why the step fails before running anything in the script, or null. */
  problem: string | null;
  /** Other things worth knowing, as comment lines. */
  notes: string[];
  haltOnFailure: boolean;
  alwaysRun: boolean;
  /** Writes the try patch into its `$SHEPHERD_STEP_DIR` before running. */
  writesPatch: boolean;
}

/** The script and the parts it was made from (`GET /builds/:id/repro?format=json`). */
export interface ReproScript {
  /** The header comment's lines, without the leading `# `. */
  header: string[];
  steps: ReproStep[];
  /** Some URL had a password, replaced by `***`. */
  redacted: boolean;
  /** The script itself. */
  text: string;
}

/** Where each step's `$SHEPHERD_STEP_DIR` lives, under the directory the script runs in. */
export const REPRO_STATE_DIR = '.shepherd-repro';

/** Builds the script reproducing `input.build`. Never throws: what cannot be rendered becomes a failing step saying why. */
export function reproScript(input: ReproInput): ReproScript {
  const steps = [...input.steps].sort((a, b) => a.index - b.index).map((step) => reproStep(input, step));
  const redacted = steps.some((s) => s.notes.some((n) => n.startsWith(REDACTED_NOTE)));
  const header = headerLines(input, steps, redacted);
  return { header, steps, redacted, text: renderScript(input, header, steps) };
}

const REDACTED_NOTE = 'A password in a URL was replaced by ***';

/** One stored step, rendered from the builder's config as the master rendered it. */
function reproStep(input: ReproInput, step: Step): ReproStep {
  const { build, builder } = input;
  const config: StepConfig | undefined = builder?.steps[step.index];
  const skipped = step.result === 'SKIPPED' ? `skipped in the build: ${step.summary ?? 'an earlier step halted it'}` : null;
  const base = {
    index: step.index,
    name: step.name,
    resultInBuild: step.result,
    commentedOut: skipped,
    notes: [] as string[],
    writesPatch: false,
  };
  if (!config || config.name !== step.name) {
    // The builder changed since the build: all that is left is what the step recorded.
    const notes = [
      builder
        ? `The builder's step ${step.index} is now "${config?.name ?? 'gone'}": command and directory as recorded with the build, environment unknown.`
        : `The builder "${build.builder}" is no longer configured: command and directory as recorded with the build, environment unknown.`,
    ];
    const recorded = step.command !== null && !(Array.isArray(step.command) && step.command[0] === 'checkout');
    const command = recorded ? redactCommand(step.command!, notes) : null;
    return {
      ...base,
      notes,
      dir: builderDir(build.builder, step.workdir ?? '.').dir,
      env: {},
      command,
      problem: command === null ? 'the command of this step is not known (it never ran, or was a checkout)' : null,
      haltOnFailure: true,
      alwaysRun: false,
    };
  }
  const flags = { haltOnFailure: config.halt_on_failure, alwaysRun: config.always_run };
  try {
    let generated: string | undefined;
    if (config.checkout) generated = checkoutStepScript(input, config, base.notes);
    const rendered = renderStep(config, build.properties, generated);
    const { dir, problem } = builderDir(build.builder, rendered.workdir);
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(rendered.env)) env[key] = redactNoting(value, base.notes);
    const command = config.checkout ? rendered.run : redactCommand(rendered.run, base.notes);
    return { ...base, ...flags, dir, env, command, problem, writesPatch: config.checkout !== undefined && input.patch !== null };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ...base, ...flags, dir: builderDir(build.builder, '.').dir, env: {}, command: null, problem: message };
  }
}

/** The checkout script the master sent, with the repository's password hidden and a forced build pinned to what it got. */
function checkoutStepScript(input: ReproInput, config: StepConfig, notes: string[]): string {
  const checkout = config.checkout!;
  const source = input.sources.find((s) => s.name === checkout.source);
  if (!source) throw new Error(`step ${config.name}: the change source "${checkout.source}" is no longer configured`);
  const target = checkoutTarget(checkout, source, input.build.properties);
  const checkouts = input.builder!.steps.filter((s) => s.checkout).length;
  const got = input.build.properties.got_revision;
  if (target.revision === '' && got && checkouts === 1) {
    // The build took the branch head of its day; the branch has likely moved since.
    notes.push(`The build checked out the head of ${target.branch}, which was ${got}: that revision is checked out here.`);
    target.revision = got;
  }
  const repository = redactNoting(target.repository, notes);
  return checkoutScript({ ...target, repository, ...(input.patch ? { patchFile: DEFAULT_PATCH_FILE } : {}) });
}

/** `<builder>/<workdir>`, normalised; a workdir the worker would refuse (outside the builder's directory) is a problem. */
function builderDir(builder: string, workdir: string): { dir: string; problem: string | null } {
  const dir = posix.normalize(posix.join(builder, workdir));
  const escapes = posix.isAbsolute(workdir) || dir === '..' || dir.startsWith('../') || !(dir === builder || dir.startsWith(`${builder}/`));
  if (escapes) return { dir: builder, problem: `workdir ${JSON.stringify(workdir)} is outside the builder's directory: the worker refuses it` };
  return { dir, problem: null };
}

function redactCommand(command: string | string[], notes: string[]): string | string[] {
  return typeof command === 'string' ? redactNoting(command, notes) : command.map((arg) => redactNoting(arg, notes));
}

/** `redactUrl`, noting (once) in the step's comments when it hid something. */
function redactNoting(text: string, notes: string[]): string {
  const shown = redactUrl(text);
  if (shown !== text && !notes.some((n) => n.startsWith(REDACTED_NOTE))) {
    notes.push(`${REDACTED_NOTE}: put your own credentials in to run this step.`);
  }
  return shown;
}

/** The header: what build this is, where and when it ran, and what the script does and does not carry over. */
function headerLines(input: ReproInput, steps: readonly ReproStep[], redacted: boolean): string[] {
  const { build, worker, patch, blamelist } = input;
  const props = build.properties;
  const dimensions = Object.entries(worker.dimensions)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  const revision = props.got_revision || props.revision || '(the branch head when the build ran)';
  const lines = [
    `Reproduces Shepherd build ${build.builder} #${build.number} (build id ${build.id}): ${build.result ?? build.state}.`,
    `Builder:  ${build.builder}`,
    `Worker:   ${worker.name}${dimensions ? ` (${dimensions})` : ''}`,
    `Revision: ${revision}${props.branch ? ` on branch ${props.branch}` : ''}`,
    `Ran:      ${new Date(build.startedAt).toISOString()}${build.finishedAt !== null ? ` to ${new Date(build.finishedAt).toISOString()}` : ' (still running)'}`,
    `Master:   ${input.masterUrl || '(unknown)'} (GET /api/v1/builds/${build.id}/repro)`,
  ];
  if (patch) {
    const writer = steps.find((s) => s.writesPatch);
    lines.push(`Try patch: ${patch.length} bytes, applied after checkout${writer ? ` (step ${writer.index} ${writer.name})` : ' (no checkout step applies it)'}.`);
  }
  if (blamelist.length > 0) {
    lines.push('Changes:');
    for (const change of blamelist) lines.push(`  ${change.revision.slice(0, 12)} ${change.author}: ${change.message.split('\n')[0]}`);
  }
  const failed = steps.find((s) => s.resultInBuild !== null && !['SUCCESS', 'WARNINGS', 'SKIPPED'].includes(s.resultInBuild));
  if (failed) lines.push(`In the build, step ${failed.index} (${failed.name}) ended ${failed.resultInBuild}.`);
  lines.push(
    '',
    'Run it with `sh` in an empty directory: it creates the builder\'s directory',
    `(${build.builder}/, as on the worker) and ${REPRO_STATE_DIR}/ (each step's $SHEPHERD_STEP_DIR)`,
    'under the current directory. Each step gets the environment the master sent',
    "the worker; the rest of the environment is yours, not the worker's. Commands",
    "are rendered with the build's final properties (including those steps set).",
    'It exits with the status of the step that failed, as the build would halt.',
    "The master's secrets are never included in this script.",
  );
  if (redacted) lines.push('Passwords in URLs were replaced by *** (see the steps that say so).');
  return lines.map(oneLine);
}

/** The whole script text. */
function renderScript(input: ReproInput, header: readonly string[], steps: readonly ReproStep[]): string {
  const out: string[] = ['#!/bin/sh', ...header.map((line) => (line ? `# ${line}` : '#')), '', 'set -eu', ''];
  out.push(...PRELUDE);
  for (const step of steps) out.push('', ...stepBlock(input, step));
  out.push('', ...EPILOGUE(input.build));
  return `${out.join('\n')}\n`;
}

/** Shared variables and the function that runs a step with the halt rules of `step-plan.ts`. */
const PRELUDE = [
  'shepherd_top=$(pwd)',
  '# The first failing step: its status is the script\'s.',
  'shepherd_status=0',
  'shepherd_failed=',
  '# Set once a halt_on_failure step failed: only always_run steps run after it.',
  'shepherd_halted=',
  '',
  '# shepherd_run INDEX NAME HALT_ON_FAILURE ALWAYS_RUN: runs shepherd_step_INDEX in a subshell.',
  'shepherd_run() {',
  '  if [ -n "$shepherd_halted" ] && [ "$4" = 0 ]; then',
  `    printf '[repro] step %s %s: not run, %s\\n' "$1" "$2" "$shepherd_halted"`,
  '    return 0',
  '  fi',
  `  printf '[repro] step %s %s\\n' "$1" "$2"`,
  '  shepherd_rc=0',
  '  ( "shepherd_step_$1" ) || shepherd_rc=$?',
  '  [ "$shepherd_rc" -eq 0 ] && return 0',
  `  printf '[repro] step %s %s failed with exit status %s\\n' "$1" "$2" "$shepherd_rc" >&2`,
  '  if [ "$shepherd_status" -eq 0 ]; then',
  '    shepherd_status=$shepherd_rc',
  '    shepherd_failed="$1 $2"',
  '  fi',
  '  if [ "$3" = 1 ] && [ -z "$shepherd_halted" ]; then',
  '    shepherd_halted="step $1 $2 failed"',
  '    shepherd_status=$shepherd_rc',
  '    shepherd_failed="$1 $2"',
  '  fi',
  '  return 0',
  '}',
  '',
  '# shepherd_step_dir INDEX: a fresh $SHEPHERD_STEP_DIR, as the worker gives each step.',
  'shepherd_step_dir() {',
  `  SHEPHERD_STEP_DIR="$shepherd_top/${REPRO_STATE_DIR}/steps/$1"`,
  '  rm -rf "$SHEPHERD_STEP_DIR" && mkdir -p "$SHEPHERD_STEP_DIR" || return 1',
  '  export SHEPHERD_STEP_DIR',
  '}',
];

function EPILOGUE(build: Build): string[] {
  const was = shellQuote(`the build ended ${build.result ?? build.state}`);
  return [
    'if [ "$shepherd_status" -ne 0 ]; then',
    `  printf '[repro] failed: step %s, exit status %s (%s)\\n' "$shepherd_failed" "$shepherd_status" ${was} >&2`,
    '  exit "$shepherd_status"',
    'fi',
    `printf '[repro] every step succeeded (%s)\\n' ${was}`,
  ];
}

/** A step: a comment saying what it was, its function, and the call; all commented out when the build skipped it. */
function stepBlock(input: ReproInput, step: ReproStep): string[] {
  const title = `step ${step.index}: ${step.name}`;
  const lines: string[] = [`# ---- ${oneLine(title)} (in the build: ${step.resultInBuild ?? 'not finished'})`];
  const flags = [step.haltOnFailure ? 'halt_on_failure' : 'no halt_on_failure', ...(step.alwaysRun ? ['always_run'] : [])];
  lines.push(`# ${flags.join(', ')}`);
  for (const note of step.notes) lines.push(`# ${oneLine(note)}`);
  const body: string[] = [`shepherd_step_${step.index}() {`];
  const dir = `"$shepherd_top"/${shellQuote(step.dir)}`;
  body.push(`  mkdir -p ${dir} && cd ${dir} || exit 1`);
  body.push(`  shepherd_step_dir ${step.index} || exit 1`);
  if (step.problem !== null || step.command === null) {
    body.push(`  printf '%s\\n' ${shellQuote(`[repro] cannot run step ${step.name}: ${step.problem ?? 'no command'}`)} >&2`, '  exit 1');
  } else {
    for (const [key, value] of Object.entries(step.env).sort(([a], [b]) => a.localeCompare(b))) {
      body.push(`  export ${key}=${shellQuote(value)}`);
    }
    if (step.writesPatch && input.patch) body.push(...hereFile(DEFAULT_PATCH_FILE, input.patch, 'SHEPHERD_PATCH'));
    body.push(...commandLines(step.command));
  }
  body.push('}', `shepherd_run ${step.index} ${shellQuote(step.name)} ${step.haltOnFailure ? 1 : 0} ${step.alwaysRun ? 1 : 0}`);
  if (step.commentedOut === null) return [...lines, ...body];
  return [...lines, `# Commented out: ${oneLine(step.commentedOut)}.`, ...body.map((line) => `#${line ? ` ${line}` : ''}`)];
}

/** How the agent starts a command: a string through `/bin/sh -c`, a list executed directly. */
function commandLines(command: string | string[]): string[] {
  if (Array.isArray(command)) return [`  exec ${shellCommand(command)}`];
  if (!command.includes('\n')) return [`  exec /bin/sh -c ${shellQuote(command)}`];
  // A long script (a checkout) reads better verbatim in a here-document than as one quoted word.
  return [...hereFile('command.sh', Buffer.from(command), 'SHEPHERD_COMMAND'), '  exec /bin/sh -c "$(cat "$SHEPHERD_STEP_DIR"/command.sh)"'];
}

/**
 * Lines writing `data` to `$SHEPHERD_STEP_DIR/<name>`: a quoted here-document
 * when the bytes are text ending in a newline (what a diff is), else printf
 * with octal escapes, which carries any byte exactly.
 */
function hereFile(name: string, data: Buffer, delimiterBase: string): string[] {
  const target = `"$SHEPHERD_STEP_DIR"/${shellQuote(name)}`;
  const text = data.toString('utf8');
  const isText = data.length > 0 && Buffer.from(text, 'utf8').equals(data) && !text.includes('\0') && text.endsWith('\n') && !text.includes('\r');
  if (isText) {
    const lines = text.slice(0, -1).split('\n');
    let delimiter = delimiterBase;
    for (let n = 1; lines.includes(delimiter); n++) delimiter = `${delimiterBase}_${n}`;
    return [`  cat >${target} <<'${delimiter}'`, ...lines, delimiter];
  }
  const out = [`  : >${target}`];
  for (let at = 0; at < data.length; at += 48) {
    const chunk = [...data.subarray(at, at + 48)].map((byte) => `\\${byte.toString(8).padStart(3, '0')}`).join('');
    out.push(`  printf '${chunk}' >>${target}`);
  }
  return out;
}

/** Safe inside a `#` comment: no line breaks. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]/g, ' ');
}

