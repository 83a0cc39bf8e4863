// Every file in bad-plans/ is an invalid plan whose "# expect:" lines are substrings of the error.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PlanError } from '../../src/plan/errors.js';
import { loadPlan } from '../../src/plan/load.js';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'bad-plans');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

describe('bad plans', () => {
  it('has a corpus of at least 20', () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
  });

  for (const file of files) {
    it(file, () => {
      const expectations = readFileSync(path.join(dir, file), 'utf8')
        .split('\n')
        .filter((line) => line.startsWith('# expect: '))
        .map((line) => line.slice('# expect: '.length));
      expect(expectations.length).toBeGreaterThan(0);
      let error: unknown;
      try {
        loadPlan(file, dir);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(PlanError);
      const message = (error as PlanError).message;
      for (const expected of expectations) expect(message).toContain(expected);
      expect(message).not.toMatch(/\n\s+at /); // never a stack trace
    });
  }
});
