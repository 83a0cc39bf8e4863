// A hook's last line is cut at 200 characters. It was cut before it was redacted, so a key split by the cut kept
// its first 11 characters (`sk-proj-Q9w`), fewer than the redactor's SECRET_PREFIX_LENGTH: the line is now redacted
// first, and a key's start left at a cut is redacted past its public part (`sk-proj-`).
import { describe, expect, it } from 'vitest';
import { createRedactor } from '../../src/core/redact.js';
import { runHook, type HookEvent } from '../../src/hooks/index.js';

const KEY = 'sk-proj-Q9wAbCdEfGhIjKlMnOpQrStUvWxYz0123456789';
const EVENT: HookEvent = { event: 'stage', plan: 'p', stage: 1, stages: 2, greenWeight: 0.5, blueModel: 'a', greenModel: 'b', at: 0 };

describe('a key cut at the end of a line', () => {
  it("an exec hook's line holding a key across the 200-character cut keeps none of the key past sk-proj-", async () => {
    // 188 characters, then the key: the cut (199 characters and …) falls 11 characters into it.
    const command = `printf "%s%s\\n" "$(head -c 188 /dev/zero | tr "\\0" x)" "$H_KEY" >&2; exit 3`;
    const outcome = await runHook({ exec: command, timeout: 10_000, retries: 0 }, EVENT, {
      cwd: '/',
      env: { PATH: process.env.PATH, H_KEY: KEY },
      secrets: { redactor: createRedactor([KEY]), envNames: ['H_KEY'], passEnv: ['H_KEY'] },
    });
    expect(outcome.message).toMatch(/exited 3: x{188}\[redac/);
    expect(outcome.message).not.toContain('sk-proj-Q');
  });

  it('a line is redacted before it is cut: a key with no public part keeps not even the 4 characters the cut leaves', async () => {
    const hex = '9f3c2a7b1e8d4c6f0a5b3e7d';
    const command = `printf "%s%s\\n" "$(head -c 195 /dev/zero | tr "\\0" x)" "$H_KEY"; exit 3`;
    const outcome = await runHook({ exec: command, timeout: 10_000, retries: 0 }, EVENT, {
      cwd: '/',
      env: { PATH: process.env.PATH, H_KEY: hex },
      secrets: { redactor: createRedactor([hex]), envNames: ['H_KEY'], passEnv: ['H_KEY'] },
    });
    expect(outcome.message).toMatch(/exited 3: x{195}\[red…$/);
    expect(outcome.message).not.toContain('9f3c');
  });

  it('the redactor takes a start of a key past its public part, left at a cut, for the key', () => {
    const redactor = createRedactor([KEY]);
    expect(redactor.text('said: sk-proj-Q9w')).toBe('said: [redacted]');
    expect(redactor.text('said: sk-proj-Q9wAb… (more)')).toBe('said: [redacted]… (more)');
    expect(redactor.text('said: sk-proj-Q9wAbC...')).toBe('said: [redacted]...');
    // The public part alone says only the kind of key; a short start inside the text is left alone (not a cut).
    expect(redactor.text('keys look like sk-proj-…')).toBe('keys look like sk-proj-…');
    expect(redactor.text('sk-proj-Q9 and more')).toBe('sk-proj-Q9 and more');
    // A key with no public part: 6 characters at a cut.
    const hex = createRedactor(['9f3c2a7b1e8d4c6f0a5b']);
    expect(hex.text('token 9f3c2a…')).toBe('token [redacted]…');
    expect(hex.text('token 9f3c2…')).toBe('token 9f3c2…');
  });
});
