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
 * Properties named `env.NAME` set the variable NAME in every step's
 * environment, over the step's own `env`: a rebuild "with VERBOSE=1" is a
 * request with the property `env.VERBOSE`, so it travels with the request
 * (and any later rebuild of it) and needs nothing new from the coordinator.
 */
export const ENV_PROPERTY_PREFIX = 'env.';

// What a variable name may be (POSIX shells export nothing else).
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Whether `name` can be set through an `env.NAME` property. */
export function isEnvName(name: string): boolean {
  return ENV_NAME.test(name);
}

/**
 * The variables the build's `env.NAME` properties set, taken literally (not
 * interpolated: they come from a person asking for a rebuild, not a template).
 * A property whose NAME is no variable name is ignored, as the shell would.
 */
export function envFromProperties(properties: Properties): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(properties)) {
    if (!key.startsWith(ENV_PROPERTY_PREFIX)) continue;
    const name = key.slice(ENV_PROPERTY_PREFIX.length);
    if (isEnvName(name)) env[name] = value;
  }
  return env;
}

/**
 * Interpolates a configured step against a build's properties. A checkout
 * step has no `run` of its own: the caller passes the command it generated
 * (`command`), which is used as is. The build's `env.NAME` properties are
 * added to the step's environment and win over the step's own `env`.
 */
export function renderStep(step: StepConfig, properties: Properties, command?: string): RenderedStep {
  const where = `step ${step.name}`;
  let run: string | string[];
  if (command !== undefined) run = command;
  else if (step.run === undefined) throw new ShepherdError('SHEPHERD_E_INTERNAL', `${where} has neither run nor a generated command`);
  else run = typeof step.run === 'string' ? interpolate(step.run, properties, where) : step.run.map((arg) => interpolate(arg, properties, where));
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(step.env)) env[key] = interpolate(value, properties, `${where} env.${key}`);
  Object.assign(env, envFromProperties(properties));
  return { run, env, workdir: interpolate(step.workdir, properties, `${where} workdir`) };
}
