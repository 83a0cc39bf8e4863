import { describe, expect, it } from 'vitest';
import { isObject, parseJson, parseObject } from '../../src/core/json.js';

describe('untrusted JSON', () => {
  it('isObject accepts objects only: not null, arrays or primitives', () => {
    expect(isObject({ a: 1 })).toBe(true);
    expect(isObject({})).toBe(true);
    for (const value of [null, undefined, [], [1], 'x', 1, true]) expect(isObject(value)).toBe(false);
  });

  it('parseJson reports bad text instead of throwing', () => {
    expect(parseJson('[1,2]')).toEqual({ ok: true, value: [1, 2] });
    expect(parseJson('null')).toEqual({ ok: true, value: null });
    expect(parseJson('{"a":')).toEqual({ ok: false });
    expect(parseJson('')).toEqual({ ok: false });
  });

  it('parseObject gives the object a text holds, and undefined for anything else', () => {
    expect(parseObject('{"pid":1,"at":2}')).toEqual({ pid: 1, at: 2 });
    for (const text of ['[{"pid":1}]', 'null', '"text"', '3', '{"torn":', '']) expect(parseObject(text)).toBeUndefined();
  });
});
