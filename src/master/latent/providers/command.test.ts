/**
 * The command provider with small real sh scripts: a toy "cloud" that keeps
 * one file per instance and records what each script was given.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../../../test/helpers/farm.js';
import { createCommandProvider, parseListOutput, parseStartOutput, parseStatusOutput } from './command.js';
import { masterTag, type InstanceSpec } from './provider.js';

const TAG = masterTag('m1');

function script(dir: string, name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

describe('command provider output', () => {
  it('takes the last non-empty line of start as the id', () => {
    expect(parseStartOutput('creating...\nvm-17\n\n')).toEqual({ id: 'vm-17' });
    expect(parseStartOutput(' \n')).toEqual({ error: 'printed no instance id on stdout' });
  });

  it('reads list output as ids or JSON lines', () => {
    expect(parseListOutput('vm-1\n\n{"id": "vm-2", "name": "cloud-2"}\n')).toEqual({
      instances: [{ id: 'vm-1' }, { id: 'vm-2', name: 'cloud-2' }],
    });
    expect(parseListOutput('')).toEqual({ instances: [] });
    expect(parseListOutput('vm-1\n{"id": 3}')).toEqual({ error: expect.stringMatching(/^line 2 of stdout: id: /) });
    expect(parseListOutput('{oops')).toEqual({ error: 'line 1 of stdout is not valid JSON: {oops' });
  });

  it('reads a status word', () => {
    expect(parseStatusOutput('running\n')).toEqual({ status: 'running' });
    expect(parseStatusOutput('stopped')).toEqual({ status: 'stopped' });
    expect(parseStatusOutput('maybe')).toEqual({ error: 'printed "maybe", expected one of running, stopped, unknown' });
  });
});

describe('command provider', () => {
  let dir: string;
  let cloud: string;
  let commands: { start: string[]; stop: string[]; status: string[]; list: string[] };
  // A token a shell would expand if it ever got near one.
  const token = `$(touch pwned) "'; x`;
  const spec = (name: string): InstanceSpec => ({
    pool: 'vms',
    name,
    master: 'ws://127.0.0.1:8010',
    token,
    tag: TAG,
    dimensions: { os: 'linux', 'cpu model': 'x 86' },
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'shepherd-command-'));
    cloud = join(dir, 'cloud');
    const env = `export CLOUD=${cloud}; mkdir -p "$CLOUD"`;
    commands = {
      start: [
        script(dir, 'start.sh', `${env}
id="vm-$SHEPHERD_INSTANCE"
env | grep '^SHEPHERD_' | sort > "$CLOUD/$id.env"
printf '%s' "$SHEPHERD_WORKER_TOKEN" > "$CLOUD/$id.token"
printf '%s\\n' "$@" > "$CLOUD/$id.args"
printf '{"id":"%s","name":"%s"}\\n' "$id" "$SHEPHERD_INSTANCE" > "$CLOUD/$id.instance"
echo "booting $id"
echo "$id"`),
        '--zone',
        'lab 1',
      ],
      stop: [script(dir, 'stop.sh', `${env}\necho "$1 $SHEPHERD_INSTANCE_ID $SHEPHERD_POOL" >> "$CLOUD/stops"\nrm -f "$CLOUD/$1.instance"`)],
      status: [script(dir, 'status.sh', `${env}\nif [ -f "$CLOUD/$1.instance" ]; then echo running; else echo stopped; fi`)],
      list: [script(dir, 'list.sh', `${env}\necho "$SHEPHERD_POOL $SHEPHERD_TAG" > "$CLOUD/list.env"\ncat "$CLOUD"/*.instance 2>/dev/null; true`)],
    };
  });

  const provider = (overrides: Partial<typeof commands> = {}, timeoutMs?: number) =>
    createCommandProvider({ pool: 'vms', tag: TAG, commands: { ...commands, ...overrides }, timeoutMs, cwd: dir });

  it('runs the scripts with our values in the environment and the id as an argument', async () => {
    const p = provider();
    expect(await p.start(spec('cloud-1'))).toEqual({ id: 'vm-cloud-1' });
    expect(await p.start(spec('cloud-2'))).toEqual({ id: 'vm-cloud-2' });

    const recorded = readFileSync(join(cloud, 'vm-cloud-1.env'), 'utf8');
    expect(recorded).toContain('SHEPHERD_INSTANCE=cloud-1\n');
    expect(recorded).toContain('SHEPHERD_MASTER=ws://127.0.0.1:8010\n');
    expect(recorded).toContain('SHEPHERD_POOL=vms\n');
    expect(recorded).toContain(`SHEPHERD_TAG=${TAG}\n`);
    expect(recorded).toContain('SHEPHERD_DIMENSIONS={"os":"linux","cpu model":"x 86"}\n');
    expect(recorded).toContain(`SHEPHERD_WORKER_SECRET=${token}\n`);
    // The token arrived byte for byte and no shell ever expanded it.
    expect(readFileSync(join(cloud, 'vm-cloud-1.token'), 'utf8')).toBe(token);
    expect(existsSync(join(dir, 'pwned'))).toBe(false);
    expect(readFileSync(join(cloud, 'vm-cloud-1.args'), 'utf8')).toBe('--zone\nlab 1\n');

    expect(await p.status('vm-cloud-1')).toBe('running');
    expect(await p.list()).toEqual([
      { pool: 'vms', id: 'vm-cloud-1', name: 'cloud-1' },
      { pool: 'vms', id: 'vm-cloud-2', name: 'cloud-2' },
    ]);
    expect(readFileSync(join(cloud, 'list.env'), 'utf8')).toBe(`vms ${TAG}\n`);

    await p.stop('vm-cloud-1');
    expect(readFileSync(join(cloud, 'stops'), 'utf8')).toBe('vm-cloud-1 vm-cloud-1 vms\n');
    expect(await p.status('vm-cloud-1')).toBe('stopped');
    expect((await p.list()).map((i) => i.id)).toEqual(['vm-cloud-2']);
  });

  it('reads plain id lines from list', async () => {
    const p = provider({ list: [script(dir, 'ids.sh', 'echo vm-a; echo; echo vm-b')] });
    expect(await p.list()).toEqual([{ pool: 'vms', id: 'vm-a' }, { pool: 'vms', id: 'vm-b' }]);
  });

  it('names the script and the last line of its stderr when it fails', async () => {
    const failing = script(dir, 'fail.sh', 'echo "quota check" >&2; echo "quota exceeded in lab 1" >&2; exit 3');
    await expect(provider({ start: [failing] }).start(spec('cloud-1'))).rejects.toThrow(
      `command provider: start: ${failing} exited with status 3: quota exceeded in lab 1`,
    );
    await expect(provider({ stop: [script(dir, 'mute.sh', 'exit 1')] }).stop('vm-1')).rejects.toThrow(/mute\.sh exited with status 1 \(nothing on stderr\)$/);
    await expect(provider({ status: [join(dir, 'missing.sh')] }).status('vm-1')).rejects.toThrow(/status: .*missing\.sh could not be run: spawn .*ENOENT/);
  });

  it('refuses output it cannot read', async () => {
    await expect(provider({ start: [script(dir, 'quiet.sh', 'true')] }).start(spec('cloud-1'))).rejects.toThrow(/quiet\.sh printed no instance id/);
    await expect(provider({ status: [script(dir, 'maybe.sh', 'echo maybe')] }).status('vm-1')).rejects.toThrow(/maybe\.sh printed "maybe", expected one of/);
    await expect(provider({ list: [script(dir, 'badlist.sh', 'echo "{oops"')] }).list()).rejects.toThrow(/badlist\.sh line 1 of stdout is not valid JSON/);
  });

  it('kills a script and what it started when it runs past the time limit', async () => {
    const hang = script(dir, 'hang.sh', `sleep 1000 & echo $! > "${dir}/child"; wait`);
    await expect(provider({ start: [hang] }, 300).start(spec('cloud-1'))).rejects.toThrow(`${hang} did not finish within 300 ms and was killed`);
    const child = Number(readFileSync(join(dir, 'child'), 'utf8'));
    await waitFor('the script\'s child to die', () => {
      const stat = existsSync(`/proc/${child}/stat`) ? readFileSync(`/proc/${child}/stat`, 'utf8').split(') ')[1]!.split(' ')[0] : 'gone';
      return ['gone', 'Z', 'X'].includes(stat!) ? true : undefined;
    });
  });

  it('checks its settings and the spec', async () => {
    expect(() => createCommandProvider({ pool: 'vms', tag: TAG, commands: { ...commands, stop: [] } })).toThrow('commands.stop must name a program');
    await expect(provider().start({ ...spec('cloud-1'), pool: 'other' })).rejects.toThrow('spec.pool "other" is not this provider\'s pool "vms"');
    await expect(provider().start({ ...spec('cloud-1'), tag: masterTag('m2') })).rejects.toThrow(/spec\.tag/);
    expect(existsSync(cloud)).toBe(false); // no script ran
  });
});
