import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { collectSpec } from './collect-spec.js';

function configWith(step: Record<string, unknown>, master: Record<string, unknown> = {}) {
  return parseConfig(
    { master, workers: [{ name: 'w', secret_env: 'W' }], builders: [{ name: 'b', workers: ['w'], steps: [{ name: 's', run: 'make', ...step }] }] },
    'test.yml',
    '/tmp',
  );
}

describe('collectSpec', () => {
  it('sends nothing back for a step without artifacts', () => {
    const config = configWith({});
    expect(collectSpec(config.builders[0]!.steps[0]!, config.master)).toBeUndefined();
  });

  it("takes a list of globs with the master's limits", () => {
    const config = configWith({ artifacts: ['config.log', 'build/**/*.core'] });
    expect(config.master.artifacts).toEqual({ max_file: 100 * 1024 ** 2, max_build: 1024 ** 3, keep_for: 30 * 86_400_000, max_total: 20 * 1024 ** 3 });
    expect(collectSpec(config.builders[0]!.steps[0]!, config.master)).toEqual([
      { kind: 'artifact', globs: ['config.log', 'build/**/*.core'], max_file_bytes: 100 * 1024 ** 2, max_total_bytes: 1024 ** 3 },
    ]);
  });

  it("takes a step's own limits, capped by the master's", () => {
    const small = configWith({ artifacts: { globs: ['*.log'], max_file: '1MB', max_total: '5MB' } });
    expect(collectSpec(small.builders[0]!.steps[0]!, small.master)).toEqual([
      { kind: 'artifact', globs: ['*.log'], max_file_bytes: 1024 ** 2, max_total_bytes: 5 * 1024 ** 2 },
    ]);
    const big = configWith({ artifacts: { globs: ['*.log'], max_file: '2GB', max_total: '9GB' } }, { artifacts: { max_file: '10MB', max_build: '50MB' } });
    expect(collectSpec(big.builders[0]!.steps[0]!, big.master)).toEqual([
      { kind: 'artifact', globs: ['*.log'], max_file_bytes: 10 * 1024 ** 2, max_total_bytes: 50 * 1024 ** 2 },
    ]);
  });

  it('refuses globs that reach outside the workdir, naming the field', () => {
    expect(() => configWith({ artifacts: ['../secrets/*'] })).toThrow(/builders\[0\]\.steps\[0\]\.artifacts.*without "\.\."/s);
    expect(() => configWith({ artifacts: ['/etc/passwd'] })).toThrow(/relative to the step's workdir/);
    expect(() => configWith({}, { artifacts: { max_file: 'lots' } })).toThrow(/master\.artifacts\.max_file/);
  });
});
