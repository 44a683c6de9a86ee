import { describe, expect, it } from 'vitest';
import { joinBody, joinErrorField, parseDimensions, type JoinFormValues } from './join-form.js';

const GOOD: JoinFormValues = { name: 'pi-farm-1', dimensions: 'os=linux\narch=aarch64\n', maxBuilds: '2', contact: 'Ada <ada@example.org>', notes: '' };

describe('parseDimensions', () => {
  it('reads key=value lines, skipping blank lines and comments, trimming around "="', () => {
    expect(parseDimensions('os = linux\n\n# the CPU\narch=x86_64')).toEqual({ dimensions: { os: 'linux', arch: 'x86_64' } });
  });
  it('names the bad line', () => {
    expect(parseDimensions('os=linux\nx86_64')).toEqual({ problem: 'line 2: expected key=value (e.g. os=linux), got "x86_64"' });
    expect(parseDimensions('=linux')).toEqual({ problem: 'line 1: the key before "=" is empty' });
    expect(parseDimensions('os=')).toEqual({ problem: 'line 1: os has no value after "="' });
    expect(parseDimensions('os=linux\nos=bsd')).toEqual({ problem: 'line 2: os is given twice' });
  });
});

describe('joinBody', () => {
  it('turns a filled form into the API body (notes left out when empty)', () => {
    expect(joinBody(GOOD)).toEqual({
      body: { name: 'pi-farm-1', dimensions: { os: 'linux', arch: 'aarch64' }, max_builds: 2, contact: 'Ada <ada@example.org>' },
    });
    expect(joinBody({ ...GOOD, notes: '  in my garage  ' })).toMatchObject({ body: { notes: 'in my garage' } });
  });

  it('checks every field and names each in its message', () => {
    const result = joinBody({ name: 'bad name', dimensions: '', maxBuilds: '0', contact: 'ada', notes: '' });
    expect('problems' in result).toBe(true);
    if (!('problems' in result)) return;
    expect(Object.keys(result.problems).sort()).toEqual(['contact', 'dimensions', 'max_builds', 'name']);
    expect(result.problems.name).toMatch(/^name: /);
    expect(result.problems.dimensions).toMatch(/^dimensions: at least one/);
    expect(result.problems.max_builds).toMatch(/^max builds: /);
    expect(result.problems.contact).toMatch(/^contact: /);
  });

  it('puts a bad dimensions line under dimensions', () => {
    const result = joinBody({ ...GOOD, dimensions: 'os linux' });
    expect(result).toEqual({ problems: { dimensions: 'dimensions, line 1: expected key=value (e.g. os=linux), got "os linux"' } });
  });

  it('takes a bare mail address as the contact, and max builds 1 when left empty', () => {
    expect(joinBody({ ...GOOD, contact: 'ada@example.org', maxBuilds: '' })).toMatchObject({ body: { contact: 'ada@example.org', max_builds: 1 } });
  });
});

describe('joinErrorField', () => {
  it("maps the API's details.field to the form field", () => {
    expect(joinErrorField({ details: { field: 'name' } })).toBe('name');
    expect(joinErrorField({ details: { field: 'dimensions.os' } })).toBe('dimensions');
    expect(joinErrorField({ details: { field: 'body' } })).toBeNull();
    expect(joinErrorField({ details: {} })).toBeNull();
  });
});
