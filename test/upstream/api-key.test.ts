import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readApiKey } from '../../src/upstream/index.js';

describe('readApiKey', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'bluegreen-key-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('prefers the environment variable', () => {
    writeFileSync(path.join(dir, '.env'), 'UPSTREAM_API_KEY=from-file\n');
    expect(readApiKey('UPSTREAM_API_KEY', { UPSTREAM_API_KEY: 'from-env' }, dir)).toBe('from-env');
  });

  it('falls back to ./.env (comments, quotes, export-free lines)', () => {
    writeFileSync(path.join(dir, '.env'), '# keys\nOTHER=1\nUPSTREAM_API_KEY="sk-from-dotenv"\n');
    expect(readApiKey('UPSTREAM_API_KEY', {}, dir)).toBe('sk-from-dotenv');
  });

  it('treats an empty variable as unset and trims stray whitespace', () => {
    writeFileSync(path.join(dir, '.env'), 'UPSTREAM_API_KEY=sk-file\n');
    expect(readApiKey('UPSTREAM_API_KEY', { UPSTREAM_API_KEY: '' }, dir)).toBe('sk-file');
    expect(readApiKey('UPSTREAM_API_KEY', { UPSTREAM_API_KEY: ' sk-padded\n' }, dir)).toBe('sk-padded');
  });

  it('is undefined when set nowhere', () => {
    expect(readApiKey('UPSTREAM_API_KEY', {}, dir)).toBeUndefined();
    writeFileSync(path.join(dir, '.env'), 'OTHER=1\n');
    expect(readApiKey('UPSTREAM_API_KEY', {}, dir)).toBeUndefined();
  });
});
