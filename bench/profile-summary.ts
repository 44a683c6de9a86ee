/**
 * Summarises a V8 CPU profile (`node --cpu-prof`, e.g. from
 * `run.js --profile DIR`): where the time went, by function (self time), by
 * package or source file, and the inclusive time of Shepherd's own functions.
 *
 *   node dist/bench/profile-summary.js FILE.cpuprofile [--top 25] [--from US --to US]
 *
 * --from/--to keep only the samples in that window of the monotonic clock
 * (microseconds, as `run.js --profile` prints for each measured phase), so
 * start-up and set-up do not count. The profiler samples wall time: a
 * process preempted inside a call (a socket write waking the reader on a
 * busy machine) is charged for the wait, so compare "busy" with the CPU
 * time the benchmark measured.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Where a function lives, shortened: a package name, a file under dist/, or node's internals. */
function placeOf(url: string): string {
  if (!url) return '(native/V8)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return url;
  const own = /\/dist\/(.*)$/.exec(url);
  return own ? own[1]! : url.replace(/^file:\/\//, '');
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const name = functionName || '(anonymous)';
  return url ? `${name}  ${placeOf(url)}:${lineNumber + 1}` : name;
}

function top(map: Map<string, number>, n: number, totalUs: number): string[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([key, us]) => `${(us / 1000).toFixed(0).padStart(8)} ms ${((us / totalUs) * 100).toFixed(1).padStart(5)}%  ${key}`);
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' }, from: { type: 'string' }, to: { type: 'string' } },
  });
  const file = positionals[0];
  if (!file) {
    process.stderr.write('usage: profile-summary FILE.cpuprofile [--top N] [--from US --to US]\n');
    process.exit(2);
  }
  const n = Number(values.top);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const from = values.from === undefined ? -Infinity : Number(values.from);
  const to = values.to === undefined ? Infinity : Number(values.to);
  const selfUs = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at >= from && at <= to) selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  });
  let totalUs = 0;
  let idleUs = 0;
  const byFunction = new Map<string, number>();
  const byPlace = new Map<string, number>();
  const inclusiveOwn = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    totalUs += us;
    if (node.callFrame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    byFunction.set(label(node), (byFunction.get(label(node)) ?? 0) + us);
    const place = node.callFrame.url ? placeOf(node.callFrame.url) : node.callFrame.functionName;
    byPlace.set(place, (byPlace.get(place) ?? 0) + us);
    // Inclusive time of Shepherd's own functions: count each once per sample stack.
    const seen = new Set<string>();
    for (let frameId: number | undefined = id; frameId !== undefined; frameId = parent.get(frameId)) {
      const frame = byId.get(frameId)!;
      if (!/\/dist\/src\//.test(frame.callFrame.url)) continue;
      const key = label(frame);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusiveOwn.set(key, (inclusiveOwn.get(key) ?? 0) + us);
    }
  }
  const busyUs = totalUs - idleUs;
  const window = values.from !== undefined || values.to !== undefined ? ` in the window ${values.from ?? 'start'}..${values.to ?? 'end'}` : '';
  const out = [
    `${file}${window}: ${(totalUs / 1e6).toFixed(2)} s sampled, ${(busyUs / 1e6).toFixed(2)} s busy (not idle); percentages of busy time`,
    '',
    `Self time by function (top ${n}):`,
    ...top(byFunction, n, busyUs),
    '',
    `Self time by package or file (top ${n}):`,
    ...top(byPlace, n, busyUs),
    '',
    `Inclusive time of Shepherd's own functions (top ${n}):`,
    ...top(inclusiveOwn, n, busyUs),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

main();
