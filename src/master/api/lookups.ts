/**
 * Finding what a URL names, or a SHEPHERD_E_NOT_FOUND that says where to
 * look instead. Shared by the route files.
 */
import type { BuilderConfig } from '../config/schema.js';
import type { Build, Step } from '../domain.js';
import { ShepherdError } from '../errors.js';
import type { MasterControl } from './control.js';

/** A configured builder by name. */
export function findBuilder(control: Pick<MasterControl, 'config'>, name: string): Readonly<BuilderConfig> {
  const builder = control.config.builders.find((b) => b.name === name);
  if (!builder) {
    throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `no builder named "${name}"; GET /api/v1/builders lists them`, {
      details: { builder: name },
    });
  }
  return builder;
}

/** A build by id. */
export async function findBuild(control: Pick<MasterControl, 'store'>, id: number): Promise<Build> {
  const build = await control.store.getBuild(id);
  if (!build) throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `no build with id ${id}`, { details: { build_id: id } });
  return build;
}

/** A build by builder name and number. */
export async function findBuildByNumber(control: Pick<MasterControl, 'store'>, builder: string, number: number): Promise<Build> {
  const build = await control.store.getBuildByNumber(builder, number);
  if (!build) {
    throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `no build ${builder} #${number}`, { details: { builder, number } });
  }
  return build;
}

/** A step by id. */
export async function findStep(control: Pick<MasterControl, 'store'>, id: number): Promise<Step> {
  const step = await control.store.getStep(id);
  if (!step) throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `no step with id ${id}`, { details: { step_id: id } });
  return step;
}

/**
 * A build's step by name or by index. A name wins over an index, so a step
 * literally named "1" stays reachable by its name.
 */
export async function findBuildStep(control: Pick<MasterControl, 'store'>, buildId: number, step: string): Promise<Step> {
  const steps = await control.store.getSteps(buildId);
  if (steps.length === 0) await findBuild(control, buildId);
  const found =
    steps.find((s) => s.name === step) ?? (/^\d+$/.test(step) ? steps.find((s) => s.index === Number(step)) : undefined);
  if (!found) {
    const names = [...steps].sort((a, b) => a.index - b.index).map((s) => `${s.index}:${s.name}`);
    throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `build ${buildId} has no step "${step}"; its steps are ${names.join(', ')}`, {
      details: { build_id: buildId, step },
    });
  }
  return found;
}
