/**
 * A builder's worker selector as people read it: either the names of the
 * workers allowed to run it, or the dimensions a worker must have
 * (`os=linux`, `arch=x86_64`).
 */
import type { BuilderJson } from '../api/client.js';

/** The selector of a builder: worker names, or required dimensions. */
export type WorkerSelector = BuilderJson['workers'];

/** One item of a selector, ready to show: a worker to link to, or a dimension pill. */
export type SelectorItem = { kind: 'worker'; name: string } | { kind: 'dimension'; text: string };

/** The items of a selector, in a stable order (names as configured, dimensions by key). */
export function selectorItems(selector: WorkerSelector): SelectorItem[] {
  if (Array.isArray(selector)) return selector.map((name) => ({ kind: 'worker', name }));
  return Object.keys(selector)
    .sort()
    .map((key) => ({ kind: 'dimension', text: `${key}=${selector[key]}` }));
}

/** The selector as one line of text (`demo-1, demo-2` or `os=linux arch=x86_64`). */
export function formatSelector(selector: WorkerSelector): string {
  const items = selectorItems(selector);
  if (items.length === 0) return 'any worker';
  const texts = items.map((item) => (item.kind === 'worker' ? item.name : item.text));
  return texts.join(Array.isArray(selector) ? ', ' : ' ');
}
