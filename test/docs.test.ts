/**
 * The documentation cannot drift from the code: the generated references
 * must match what the generator renders now, and every example config file
 * in the docs must pass the real config parser.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { GENERATED_DOCS } from '../scripts/generate-docs.js';
import { parseConfig } from '../src/master/config/load.js';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));

describe('generated docs', () => {
  for (const [path, render] of Object.entries(GENERATED_DOCS)) {
    it(`${path} is up to date`, () => {
      const file = join(root, path);
      const committed = existsSync(file) ? readFileSync(file, 'utf8') : '';
      expect(committed, `${path} is stale or missing: run \`npm run docs\` and commit the result`).toBe(render());
    });
  }
});

/** YAML code blocks whose first line is `# shepherd.yml`: the example master configs. */
function exampleConfigs(): Array<{ where: string; text: string }> {
  const files = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const examples: Array<{ where: string; text: string }> = [];
  for (const file of files) {
    const path = join(root, file);
    if (!existsSync(path)) continue;
    const text = readFileSync(path, 'utf8');
    for (const match of text.matchAll(/^```ya?ml\n(# shepherd\.yml\n[\s\S]*?)^```$/gm)) {
      const line = text.slice(0, match.index).split('\n').length;
      examples.push({ where: `${file}:${line}`, text: match[1]! });
    }
  }
  return examples;
}

describe('example configs in the docs', () => {
  const examples = exampleConfigs();

  it('finds the examples', () => {
    expect(examples.length).toBeGreaterThan(0);
  });

  for (const example of examples) {
    it(`${example.where} is a valid config`, () => {
      expect(() => parseConfig(parse(example.text), example.where, '/srv/shepherd')).not.toThrow();
    });
  }
});
