import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { collectDimension, collectName, collectParam, collectProperty, collectWindow, parseDays, parseId, parseInteger, parseLimit, parseMaxBuilds } from './arguments.js';

describe('collectProperty', () => {
  it('collects repeated KEY=VALUE, keeping "=" in values and letting a later key win', () => {
    let props = collectProperty('branch=main');
    props = collectProperty('cflags=-O2 -DX=1', props);
    props = collectProperty('branch=dev', props);
    props = collectProperty('empty=', props);
    expect(props).toEqual({ branch: 'dev', cflags: '-O2 -DX=1', empty: '' });
  });

  it('refuses text without a key', () => {
    expect(() => collectProperty('branch')).toThrow(InvalidArgumentError);
    expect(() => collectProperty('=x')).toThrow(/KEY=VALUE/);
    expect(() => collectProperty('a b=c')).toThrow(/not a property name/);
  });
});

describe('collectParam and collectName', () => {
  it('collects scheduler parameters, names as the config allows them', () => {
    expect(collectParam('verbose=true', collectParam('target=a=b'))).toEqual({ target: 'a=b', verbose: 'true' });
    expect(() => collectParam('a.b=1')).toThrow(/not a parameter name/);
    expect(() => collectParam('x')).toThrow(/NAME=VALUE/);
  });

  it('collects repeated names in order, once each', () => {
    expect(collectName('b', collectName('a', collectName('b')))).toEqual(['b', 'a']);
    expect(() => collectName('')).toThrow(InvalidArgumentError);
  });
});

describe('number arguments', () => {
  it('parses ids, integers and limits', () => {
    expect(parseId('12')).toBe(12);
    expect(parseInteger('-3')).toBe(-3);
    expect(parseLimit('500')).toBe(500);
  });

  it('refuses what is not one', () => {
    for (const bad of ['0', '-1', '1.5', 'x', '', '99999999999999999999']) expect(() => parseId(bad)).toThrow(InvalidArgumentError);
    expect(() => parseInteger('2x')).toThrow(InvalidArgumentError);
    expect(() => parseLimit('501')).toThrow(/1 to 500/);
  });
});

describe('collectDimension', () => {
  it('collects repeated KEY=VALUE dimensions, a later key winning', () => {
    expect(collectDimension('libc=musl', collectDimension('os=linux', collectDimension('libc=glibc')))).toEqual({ libc: 'musl', os: 'linux' });
  });

  it('refuses a missing key, a bad name or an empty value', () => {
    expect(() => collectDimension('linux')).toThrow(/expected KEY=VALUE/);
    expect(() => collectDimension('my os=linux')).toThrow(/"my os" is not a dimension name/);
    expect(() => collectDimension('os=')).toThrow(/dimension os: expected a value/);
  });
});

describe('collectWindow', () => {
  it('splits CRON/DURATION at the last "/", so cron steps keep theirs', () => {
    expect(collectWindow('*/15 2 * * 0/30m', collectWindow('0 2 * * 0/3h'))).toEqual([
      { cron: '0 2 * * 0', duration: '3h' },
      { cron: '*/15 2 * * 0', duration: '30m' },
    ]);
  });

  it('refuses a window without a duration, or a cron without five fields', () => {
    expect(() => collectWindow('0 2 * * 0')).toThrow(/expected "CRON\/DURATION"/);
    expect(() => collectWindow('0 2 * * 0/3 hours')).toThrow(/expected "CRON\/DURATION"/);
    expect(() => collectWindow('0 2 * */3h')).toThrow(/five-field cron before "\/3h", got "0 2 \* \*"/);
  });
});

describe('parseMaxBuilds and parseDays', () => {
  it('take what the API allows', () => {
    expect([parseMaxBuilds('1'), parseMaxBuilds('64'), parseDays('366')]).toEqual([1, 64, 366]);
    expect(() => parseMaxBuilds('0')).toThrow(/expected 1 to 64, got 0/);
    expect(() => parseDays('367')).toThrow(/expected 1 to 366/);
  });
});
