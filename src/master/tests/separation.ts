/**
 * Which platforms fail: given the dimensions of the workers where a test
 * failed and of those where it passed (at the same revision), the dimension
 * values every failing worker has and no passing worker has ("fails only
 * where arch=s390x"), then the keys whose values on failing and passing
 * workers never meet ("arch is s390x or ppc64le; passes where arch is
 * x86_64"). A key a worker lacks counts as the value "(unset)".
 */

/** A worker's dimensions. */
export type Dimensions = Readonly<Record<string, string>>;

/** One value shared by every failing worker and no passing one. */
export interface SeparatingValue {
  key: string;
  value: string;
}

/** A key whose values on failing workers and on passing workers are disjoint. */
export interface SeparatingKey {
  key: string;
  failing: string[];
  passing: string[];
}

/** What separates failing from passing workers, strongest first, and a sentence saying it. */
export interface Separation {
  values: SeparatingValue[];
  keys: SeparatingKey[];
  /** "fails only where arch=s390x", or null when nothing separates them (or a group is empty). */
  sentence: string | null;
}

const UNSET = '(unset)';

/** The dimensions separating the failing workers from the passing ones. */
export function separatingDimensions(failing: readonly Dimensions[], passing: readonly Dimensions[]): Separation {
  if (failing.length === 0 || passing.length === 0) return { values: [], keys: [], sentence: null };
  const allKeys = [...new Set([...failing, ...passing].flatMap((d) => Object.keys(d)))].sort();
  const valueOf = (d: Dimensions, key: string) => (Object.hasOwn(d, key) ? d[key]! : UNSET);

  const values: (SeparatingValue & { evidence: number })[] = [];
  const keys: (SeparatingKey & { evidence: number })[] = [];
  for (const key of allKeys) {
    const failingValues = [...new Set(failing.map((d) => valueOf(d, key)))].sort();
    const passingValues = [...new Set(passing.map((d) => valueOf(d, key)))].sort();
    if (failingValues.some((v) => passingValues.includes(v))) continue;
    // Evidence: passing workers that have the key at all (a passing worker lacking it says little).
    const evidence = passing.filter((d) => Object.hasOwn(d, key)).length;
    if (failingValues.length === 1 && failingValues[0] !== UNSET) values.push({ key, value: failingValues[0]!, evidence });
    else keys.push({ key, failing: failingValues, passing: passingValues, evidence });
  }
  values.sort((a, b) => b.evidence - a.evidence || a.key.localeCompare(b.key));
  keys.sort((a, b) => a.failing.length - b.failing.length || b.evidence - a.evidence || a.key.localeCompare(b.key));
  return {
    values: values.map(({ key, value }) => ({ key, value })),
    keys: keys.map(({ key, failing: f, passing: p }) => ({ key, failing: f, passing: p })),
    sentence: sentenceOf(values, keys),
  };
}

function sentenceOf(values: readonly SeparatingValue[], keys: readonly SeparatingKey[]): string | null {
  if (values.length > 0) {
    const [first, ...rest] = values;
    const also = rest.length > 0 ? ` (and equally where ${rest.map((v) => `${v.key}=${v.value}`).join(', ')})` : '';
    return `fails only where ${first!.key}=${first!.value}${also}`;
  }
  if (keys.length > 0) {
    const key = keys[0]!;
    return `fails only where ${key.key} is ${key.failing.join(' or ')} (passes where ${key.key} is ${key.passing.join(' or ')})`;
  }
  return null;
}
