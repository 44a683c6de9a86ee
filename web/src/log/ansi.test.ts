import { describe, expect, it } from 'vitest';
import { ansiEndState, applySgr, paletteHex, parseAnsiLine, plainText, PLAIN, spanLook } from './ansi.js';

const texts = (line: string) => parseAnsiLine(line).spans.map((s) => s.text);

describe('parseAnsiLine', () => {
  it('returns plain lines as one span in the starting state', () => {
    expect(parseAnsiLine('hello')).toEqual({ spans: [{ text: 'hello', state: PLAIN }], end: PLAIN });
    expect(parseAnsiLine('')).toEqual({ spans: [], end: PLAIN });
  });

  it('reads the 8 and bright colours, foreground and background', () => {
    const { spans, end } = parseAnsiLine('\x1b[31mred\x1b[0m plain \x1b[92;44mbright\x1b[m');
    expect(spans.map((s) => [s.text, s.state.fg, s.state.bg])).toEqual([
      ['red', 1, null],
      [' plain ', null, null],
      ['bright', 10, 4],
    ]);
    expect(end).toBe(PLAIN);
    expect(applySgr(PLAIN, '101').bg).toBe(9);
    expect(applySgr(PLAIN, '37').fg).toBe(7);
    expect(applySgr(PLAIN, '97').fg).toBe(15);
  });

  it('reads 256-colour and 24-bit colours, including colon sub-parameters', () => {
    expect(applySgr(PLAIN, '38;5;208').fg).toBe(208);
    expect(applySgr(PLAIN, '48;5;22').bg).toBe(22);
    expect(applySgr(PLAIN, '38;2;255;0;128').fg).toBe('#ff0080');
    expect(applySgr(PLAIN, '38:2::1:2:3').fg).toBe('#010203');
    // the parameters after a colour are read as codes again
    const state = applySgr(PLAIN, '38;5;1;1');
    expect([state.fg, state.bold]).toEqual([1, true]);
  });

  it('reads bold, dim, italic, underline and their resets', () => {
    let state = applySgr(PLAIN, '1;2;3;4');
    expect([state.bold, state.dim, state.italic, state.underline]).toEqual([true, true, true, true]);
    state = applySgr(state, '22;23');
    expect([state.bold, state.dim, state.italic, state.underline]).toEqual([false, false, false, true]);
    state = applySgr(state, '24');
    expect(state).toBe(PLAIN);
    expect(applySgr(applySgr(PLAIN, '31'), '39')).toBe(PLAIN);
  });

  it('carries the state over from one line to the next', () => {
    const first = parseAnsiLine('\x1b[1;33mwarning: starts here');
    const second = parseAnsiLine('and goes on', first.end);
    expect(second.spans[0]!.state).toMatchObject({ fg: 3, bold: true });
    expect(ansiEndState('\x1b[0m', first.end)).toBe(PLAIN);
    expect(ansiEndState('no escapes', first.end)).toBe(first.end);
  });

  it('drops other escape sequences and control characters', () => {
    expect(texts('a\x1b[2Kb\x1b[1Ac\x1b[?25hd')).toEqual(['abcd']);
    expect(texts('\x1b]0;title\x07x\x1b]8;;http://e\x1b\\link\x1b]8;;\x1b\\')).toEqual(['xlink']);
    expect(texts('\x1b(Bz\x1b=y')).toEqual(['zy']);
    expect(texts('bell\x07 back\x08space\ttab')).toEqual(['bell backspace\ttab']);
  });

  it('keeps what follows the last carriage return, with the state the hidden part set', () => {
    expect(texts(' 10%\r 50%\r100%')).toEqual(['100%']);
    expect(texts('done\r')).toEqual(['done']);
    const { spans } = parseAnsiLine('\x1b[32m 10%\r100%');
    expect(spans).toEqual([{ text: '100%', state: expect.objectContaining({ fg: 2 }) }]);
  });

  it('gives plain text for search', () => {
    expect(plainText('\x1b[31mred\x1b[0m and \x1b[1mbold')).toBe('red and bold');
    expect(plainText('plain')).toBe('plain');
  });
});

describe('spanLook', () => {
  it('uses classes for the theme colours and styles for the others', () => {
    expect(spanLook(PLAIN)).toEqual({ className: '', style: undefined });
    expect(spanLook(applySgr(PLAIN, '1;31;42'))).toEqual({ className: 'ansi-fg-1 ansi-bg-2 ansi-bold', style: undefined });
    expect(spanLook(applySgr(PLAIN, '38;5;196;48;2;0;0;255'))).toEqual({ className: '', style: { color: '#ff0000', backgroundColor: '#0000ff' } });
    expect(spanLook(applySgr(PLAIN, '7')).className).toBe('ansi-fg-default-bg ansi-bg-default-fg');
  });

  it('computes the 256-colour cube and greys', () => {
    expect(paletteHex(16)).toBe('#000000');
    expect(paletteHex(231)).toBe('#ffffff');
    expect(paletteHex(196)).toBe('#ff0000');
    expect(paletteHex(232)).toBe('#080808');
    expect(paletteHex(255)).toBe('#eeeeee');
  });
});
