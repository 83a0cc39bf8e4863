// log Γ and log B against values known in closed form or from exact factorial sums.
import { describe, expect, it } from 'vitest';
import { logBeta, logGamma } from '../../src/analysis/log-beta.js';

/** log((k - 1)!) summed term by term: an independent route for whole arguments. */
function logFactorial(k: number): number {
  let sum = 0;
  for (let i = 2; i <= k; i++) sum += Math.log(i);
  return sum;
}

function expectRelative(actual: number, expected: number, tolerance = 1e-10): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(expected)));
}

describe('logGamma', () => {
  it('matches closed forms: Γ(1) = Γ(2) = 1, Γ(1/2) = √π, Γ(3/2) = √π / 2, Γ(5) = 24', () => {
    expectRelative(logGamma(1), 0, 1e-14);
    expectRelative(logGamma(2), 0, 1e-14);
    expectRelative(logGamma(0.5), 0.5 * Math.log(Math.PI));
    expectRelative(logGamma(1.5), 0.5 * Math.log(Math.PI) - Math.log(2));
    expectRelative(logGamma(5), Math.log(24));
  });

  it('matches factorials up to large arguments', () => {
    for (const k of [3, 10, 19, 100, 1000, 20_000]) expectRelative(logGamma(k), logFactorial(k - 1));
  });

  it('reflects below 1/2, and is NaN off the positive reals', () => {
    // Γ(1/4) = 3.6256099082219083119...
    expectRelative(logGamma(0.25), Math.log(3.625609908221908));
    expect(logGamma(0)).toBeNaN();
    expect(logGamma(-1)).toBeNaN();
  });
});

describe('logBeta', () => {
  it('matches closed forms: B(1, b) = 1/b, B(1/2, 1/2) = π, B(5/2, 3/2) = π/16', () => {
    expectRelative(logBeta(1, 19), -Math.log(19));
    expectRelative(logBeta(0.5, 0.5), Math.log(Math.PI));
    expectRelative(logBeta(2.5, 1.5), Math.log(Math.PI / 16));
  });

  it('matches factorial sums for the mixture counts (a = 1 + x, b = 19 + n - x) up to tens of thousands', () => {
    for (const [a, b] of [
      [4, 56],
      [13, 139],
      [1, 1],
      [501, 9519],
      [2001, 38_019],
    ] as const) {
      expectRelative(logBeta(a, b), logFactorial(a - 1) + logFactorial(b - 1) - logFactorial(a + b - 1));
    }
  });

  it('matches the non-integer prior of a 3% limit: B(1 + x, 32.33 + n - x) = B(1, ·) x a product', () => {
    // B(1 + x, b) = B(1, b) x Π_{i<x} (1 + i) / (1 + i + b) with B(1, b) = 1 / b.
    const b = 1 / 0.03 - 1;
    let expected = -Math.log(b);
    for (let i = 0; i < 12; i++) expected += Math.log(1 + i) - Math.log(1 + i + b);
    expectRelative(logBeta(13, b), expected);
  });

  it('keeps its precision where log Γ(b) and log Γ(a + b) nearly cancel: B(3, b) = 2 / (b (b + 1) (b + 2))', () => {
    for (const b of [12.5, 1e4, 1e6, 3e7]) expectRelative(logBeta(3, b), Math.log(2) - Math.log(b) - Math.log(b + 1) - Math.log(b + 2), 1e-12);
  });

  it('is NaN off the positive reals', () => {
    expect(logBeta(0, 1)).toBeNaN();
    expect(logBeta(1, -2)).toBeNaN();
  });
});
