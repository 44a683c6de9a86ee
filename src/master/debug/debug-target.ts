/**
 * Where a debug session opens: the directory and environment of the build's
 * last step that ran, as the coordinator gave them to the worker.
 */
import type { BuilderConfig } from '../config/schema.js';
import type { Build, Step } from '../domain.js';
import { envFromProperties, renderStep } from '../scheduling/interpolate.js';

/** What the worker needs to find the build's directory and environment. */
export interface DebugTarget {
  /** The builder's directory on the worker (the coordinator uses the builder's name). */
  builderDir: string;
  /** The last step's working directory inside it ('.' when no step ran). */
  workdir: string;
  /** The last step's environment (its `env`, then the build's `env.NAME` properties). */
  env: Record<string, string>;
}

/**
 * The target of a debug session on `build`. `builder` is the builder's
 * current config (undefined once it was removed): the step's environment is
 * rendered again from it; a step it no longer has leaves only the build's
 * `env.NAME` properties.
 */
export function debugTarget(build: Build, steps: readonly Step[], builder: BuilderConfig | undefined): DebugTarget {
  let last: Step | undefined;
  for (const step of steps) if (step.startedAt !== null && (!last || step.index > last.index)) last = step;
  const workdir = last?.workdir ?? '.';
  let env = envFromProperties(build.properties);
  const config = last ? builder?.steps[last.index] : undefined;
  if (config && config.name === last!.name) {
    try {
      // A checkout step's command is generated; only its env matters here.
      env = renderStep(config, build.properties, config.run === undefined ? '' : undefined).env;
    } catch {
      // A property the config now names but the build never had: the properties' env is what is left.
    }
  }
  return { builderDir: build.builder, workdir, env };
}
