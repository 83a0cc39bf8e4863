import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_PROMPTS, loadPrompts, parsePrompts, TrafficError } from '../../src/traffic/index.js';
import { MAX_PROMPTS_BYTES } from '../../src/traffic/prompts.js';
import { simulatedPlan, writePlan } from '../helpers/plans.js';

const dir = mkdtempSync(path.join(tmpdir(), 'bluegreen-prompts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parsePrompts', () => {
  it('keeps one prompt a line, trimmed, skipping blank lines, comments, CRLF and a BOM', () => {
    const text = '\uFEFF# support prompts\r\n\r\n  Where is my order?  \r\n# billing\r\nRefund please\r\n   \r\n';
    expect(parsePrompts(text, '/x/prompts.txt')).toEqual(['Where is my order?', 'Refund please']);
  });

  it('keeps a # inside a prompt', () => {
    expect(parsePrompts('What is order #123?', 'p.txt')).toEqual(['What is order #123?']);
  });

  it('names the file when there is no prompt', () => {
    expect(() => parsePrompts('# only comments\n\n', '/plans/prompts.txt')).toThrow(TrafficError);
    expect(() => parsePrompts('# only comments\n\n', '/plans/prompts.txt')).toThrow(/prompts file \/plans\/prompts.txt has no prompts/);
  });
});

describe('loadPrompts', () => {
  it('falls back to the built-in list', async () => {
    const prompts = await loadPrompts(undefined);
    expect(prompts).toEqual([...DEFAULT_PROMPTS]);
    expect(prompts.length).toBeGreaterThanOrEqual(10);
    expect(new Set(prompts).size).toBe(prompts.length);
  });

  it('takes an inline list and refuses one with only blanks', async () => {
    expect(await loadPrompts([' a ', 'b'])).toEqual(['a', 'b']);
    await expect(loadPrompts(['  '])).rejects.toThrow(/empty list/);
  });

  it('reads a file', async () => {
    const file = path.join(dir, 'ok.txt');
    writeFileSync(file, 'one\n# two\nthree\n');
    expect(await loadPrompts(file)).toEqual(['one', 'three']);
  });

  it('names an empty or missing file', async () => {
    const empty = path.join(dir, 'empty.txt');
    writeFileSync(empty, '');
    await expect(loadPrompts(empty)).rejects.toThrow(`prompts file ${empty} has no prompts`);
    const missing = path.join(dir, 'missing.txt');
    await expect(loadPrompts(missing)).rejects.toThrow(`cannot read prompts file ${missing}: no such file`);
  });

  it('reads the example prompts shipped in rollouts/', async () => {
    const file = fileURLToPath(new URL('../../rollouts/prompts/support.txt', import.meta.url));
    const prompts = await loadPrompts(file);
    expect(prompts.length).toBeGreaterThanOrEqual(25);
    expect(prompts.every((prompt) => !prompt.startsWith('#'))).toBe(true);
  });

  // hostile29: a 600 MB prompts file took validate 34 s and 1.1 GB to end in "Cannot create a string longer than
  // 0x1fffffe8 characters"; a 3 GB one ran for minutes. Refused past MAX_PROMPTS_BYTES, saying where such traffic goes.
  it('refuses a file over 64 MiB, and a named pipe, without reading it all or waiting on it', async () => {
    const huge = path.join(dir, 'huge.txt');
    writeFileSync(huge, '');
    truncateSync(huge, MAX_PROMPTS_BYTES + 1);
    await expect(loadPrompts(huge)).rejects.toThrow(
      `cannot read prompts file ${huge}: it is larger than 64 MiB (prompts are held in memory; replay recorded requests with traffic.sampled.file`,
    );
    const pipe = path.join(dir, 'pipe.txt');
    execFileSync('mkfifo', [pipe]);
    await expect(loadPrompts(pipe)).rejects.toThrow(`cannot read prompts file ${pipe}: ${pipe} is a named pipe, not a regular file`);
  });

  // lows30: a NUL byte was sent inside a prompt, a Latin-1 byte as U+FFFD. Refused naming the file, line and column.
  it('refuses a binary file (a NUL byte) and one not in UTF-8, naming where', async () => {
    const binary = path.join(dir, 'binary.txt');
    writeFileSync(binary, Buffer.from('first prompt\nsecond\u0000prompt\n'));
    await expect(loadPrompts(binary)).rejects.toThrow(
      `prompts file ${binary} holds a NUL byte at line 2, column 7: it is a binary file, not prompts one a line`,
    );
    const latin1 = path.join(dir, 'latin1.txt');
    writeFileSync(latin1, Buffer.concat([Buffer.from('one\n# two\nCaf'), Buffer.from([0xe9]), Buffer.from(' au lait?\n')]));
    await expect(loadPrompts(latin1)).rejects.toThrow(`prompts file ${latin1} is not UTF-8 (byte 0xe9 at line 3, column 4); save it as UTF-8`);
    // UTF-8 (and its BOM) as ever.
    const utf8 = path.join(dir, 'utf8.txt');
    writeFileSync(utf8, '\uFEFFCafé au lait?\n');
    expect(await loadPrompts(utf8)).toEqual(['Café au lait?']);
  });

  it('validate refuses a prompts file that is not UTF-8 text (exit 2, no stack trace)', () => {
    const latin1 = path.join(dir, 'latin1-validate.txt');
    writeFileSync(latin1, Buffer.from([0x43, 0x61, 0x66, 0xe9, 0x0a]));
    const plan = writePlan(
      simulatedPlan('latin1-prompts', '1s', 0.5).replace(/^traffic: \{/m, `traffic: { synthetic: { prompts: ${JSON.stringify(latin1)} },`),
    );
    const bin = fileURLToPath(new URL('../../bin/bluegreen.js', import.meta.url));
    const run = spawnSync(process.execPath, [bin, 'validate', plan], { encoding: 'utf8', timeout: 20_000 });
    expect(run.stdout + run.stderr).toContain(`traffic.synthetic.prompts: prompts file ${latin1} is not UTF-8 (byte 0xe9 at line 1, column 4)`);
    expect(run.stdout + run.stderr).not.toMatch(/\n\s+at /);
    expect(run.status).toBe(2);
  });

  it('validate refuses a prompts file over 64 MiB (exit 2)', () => {
    const huge = path.join(dir, 'huge-validate.txt');
    writeFileSync(huge, '');
    truncateSync(huge, MAX_PROMPTS_BYTES + 1);
    const plan = writePlan(simulatedPlan('huge-prompts', '1s', 0.5).replace(/^traffic: \{/m, `traffic: { synthetic: { prompts: ${JSON.stringify(huge)} },`));
    const bin = fileURLToPath(new URL('../../bin/bluegreen.js', import.meta.url));
    const run = spawnSync(process.execPath, [bin, 'validate', plan], { encoding: 'utf8', timeout: 20_000 });
    expect(run.signal, 'validate hung').toBeNull();
    expect(run.stdout + run.stderr).toContain('traffic.synthetic.prompts: cannot read prompts file');
    expect(run.stdout + run.stderr).toContain('it is larger than 64 MiB');
    expect(run.status).toBe(2);
  });
});
