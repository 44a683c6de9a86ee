/**
 * `${{ props.NAME }}` interpolation of build properties into step commands.
 */
import { ShepherdError } from '../errors.js';
import type { Properties } from '../domain.js';
import type { StepConfig } from '../config/schema.js';

const PLACEHOLDER = /\$\{\{\s*props\.([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}/g;

/** Replaces every `${{ props.NAME }}` in `template`; an unknown property is an error naming it. */
export function interpolate(template: string, properties: Properties, where: string): string {
  return template.replace(PLACEHOLDER, (_, name: string) => {
    const value = properties[name];
    if (value === undefined) {
      throw new ShepherdError(
        'SHEPHERD_E_PROPERTY',
        `${where}: unknown property "${name}"; the build has ${Object.keys(properties).sort().join(', ')}`,
        { details: { property: name } },
      );
    }
    return value;
  });
}

/** A step's command, environment and working directory with properties filled in. */
export interface RenderedStep {
  run: string | string[];
  env: Record<string, string>;
  workdir: string;
}

/**
 * Interpolates a configured step against a build's properties. A checkout
 * step has no `run` of its own: the caller passes the command it generated
 * (`command`), which is used as is.
 */
export function renderStep(step: StepConfig, properties: Properties, command?: string): RenderedStep {
  const where = `step ${step.name}`;
  let run: string | string[];
  if (command !== undefined) run = command;
  else if (step.run === undefined) throw new ShepherdError('SHEPHERD_E_INTERNAL', `${where} has neither run nor a generated command`);
  else run = typeof step.run === 'string' ? interpolate(step.run, properties, where) : step.run.map((arg) => interpolate(arg, properties, where));
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(step.env)) env[key] = interpolate(value, properties, `${where} env.${key}`);
  return { run, env, workdir: interpolate(step.workdir, properties, `${where} workdir`) };
}
