import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { collectName, collectParam, collectProperty, parseId, parseInteger, parseLimit } from './arguments.js';

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
