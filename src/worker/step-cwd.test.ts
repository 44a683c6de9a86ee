import { describe, expect, it } from 'vitest';
import { resolveStepCwd } from './step-cwd.js';

describe('resolveStepCwd', () => {
  it('joins the base, builder and work directories', () => {
    expect(resolveStepCwd('/w', 'linux-gcc', 'build')).toBe('/w/linux-gcc/build');
    expect(resolveStepCwd('/w', 'b', '.')).toBe('/w/b');
    expect(resolveStepCwd('/w', 'b', 'x/../y')).toBe('/w/b/y');
    expect(resolveStepCwd('/w', 'b', '../shared')).toBe('/w/shared');
  });

  it('refuses anything that leaves the base directory', () => {
    expect(() => resolveStepCwd('/w', '..', 'x')).toThrow(/builder_dir "\.\." escapes the worker directory \/w/);
    expect(() => resolveStepCwd('/w', 'b', '../../etc')).toThrow(/workdir "\.\.\/\.\.\/etc" escapes/);
    expect(() => resolveStepCwd('/w', '/etc', '.')).toThrow(/builder_dir "\/etc" escapes/);
    expect(() => resolveStepCwd('/w', 'b', '/tmp')).toThrow(/workdir "\/tmp" escapes/);
  });

  it("refuses the agent's own state directory", () => {
    expect(() => resolveStepCwd('/w', '.shepherd', 'spool')).toThrow(/state directory/);
    expect(() => resolveStepCwd('/w', 'b', '../.shepherd')).toThrow(/state directory/);
  });
});
