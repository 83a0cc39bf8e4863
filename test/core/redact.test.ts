import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createRedactor, redactingStream, withoutSecrets } from '../../src/core/redact.js';
import { runHook } from '../../src/hooks/index.js';
import type { HookEvent } from '../../src/hooks/index.js';
import { tempDir } from '../helpers/plans.js';

const KEY = 'sk-test/abc+def"ghi';

describe('redactor', () => {
  it('replaces a key as is, JSON-escaped and URL-encoded, and ignores empty or short values', () => {
    const redactor = createRedactor([KEY, '', undefined, 'short']);
    expect(redactor.text(`plain ${KEY} end`)).toBe('plain [redacted] end');
    expect(redactor.text(JSON.stringify({ message: `key ${KEY}` }))).toBe('{"message":"key [redacted]"}');
    expect(redactor.text(`https://x.test/?key=${encodeURIComponent(KEY)}&a=1`)).toBe('https://x.test/?key=[redacted]&a=1');
    expect(redactor.text('a short word')).toBe('a short word');
    expect(createRedactor([]).active()).toBe(false);
  });

  it('replaces a long enough prefix of a key too: upstreams echo keys in part', () => {
    const redactor = createRedactor(['sk-canary-1234567890']);
    expect(redactor.text('partial sk-canary-12, more sk-canary-123456, whole sk-canary-1234567890.')).toBe(
      'partial [redacted], more [redacted], whole [redacted].',
    );
    // Under the prefix length it is not taken for the key.
    expect(redactor.text('sk-canary-1 is not enough')).toBe('sk-canary-1 is not enough');
    const special = createRedactor(['a.b*c(d)e[f]g\\h$i^j|k']);
    expect(special.text('x a.b*c(d)e[f]g\\h y')).toBe('x [redacted] y');
  });

  it("replaces a long enough suffix of a key too: text kept by its end (the last 4 KB of a hook's output) may start inside one", () => {
    const key = 'sk-canary-1234567890abcdef';
    const redactor = createRedactor([key]);
    expect(redactor.text(`${key.slice(-12)}; then ${key.slice(-20)}. and ${key.slice(1)}`)).toBe('[redacted]; then [redacted]. and [redacted]');
    // Under the suffix length it is not taken for the key.
    expect(redactor.text(`${key.slice(-11)} is not enough`)).toBe(`${key.slice(-11)} is not enough`);
    const special = createRedactor(['a.b*c(d)e[f]g\\h$i^j|k']);
    expect(special.text('x c(d)e[f]g\\h$i^j|k y')).toBe('x [redacted] y');
  });

  it('replaces a long enough prefix of any spelling of a key: a relay may quote the URL-encoded key it was sent', () => {
    const key = 'ak+/Zq"9\\x=Yw0123456789abcdef';
    const redactor = createRedactor([key]);
    const url = encodeURIComponent(key);
    const json = JSON.stringify(key).slice(1, -1);
    expect(redactor.text(`bad key ${url.slice(0, 14)}… rejected`)).toBe('bad key [redacted]… rejected');
    expect(redactor.text(`bad key ${json.slice(0, 14)}…`)).toBe('bad key [redacted]…');
    // A shorter start inside the text is left alone (at a cut it is not: test/hostile/hook-output-cut-key.test.ts).
    expect(redactor.text(`bad key ${url.slice(0, 11)} rejected`)).toBe(`bad key ${url.slice(0, 11)} rejected`);
  });

  it('redacts data deeply (keys too) without touching other values', () => {
    const redactor = createRedactor(['sk-longer-key-1', 'sk-longer']);
    const data = { a: ['x sk-longer-key-1 y', 3, null], [`k sk-longer`]: { b: true, c: 'sk-longer-key-1' } };
    expect(redactor.value(data)).toEqual({ a: ['x [redacted] y', 3, null], 'k [redacted]': { b: true, c: '[redacted]' } });
  });

  it('keys added later are redacted from then on', () => {
    const redactor = createRedactor();
    expect(redactor.text('sk-added-later')).toBe('sk-added-later');
    redactor.add('sk-added-later');
    expect(redactor.text('sk-added-later')).toBe('[redacted]');
  });

  it('a redacting stream keeps the real stream properties (isTTY, columns) and redacts string and Buffer writes', () => {
    const inner = Object.assign(new PassThrough(), { isTTY: true, columns: 123 });
    let out = '';
    inner.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const stream = redactingStream(inner, createRedactor([KEY]));
    expect(stream.isTTY).toBe(true);
    expect(stream.columns).toBe(123);
    stream.write(`one ${KEY}\n`);
    stream.write(Buffer.from(`two ${KEY}\n`));
    expect(out).toBe('one [redacted]\ntwo [redacted]\n');
  });

  it('withoutSecrets drops key variables and copies of a key, except those passed', () => {
    const redactor = createRedactor(['sk-value-123']);
    const env = { KEY: 'sk-value-123', COPY: 'sk-value-123', PATH: '/bin', PASSED: 'sk-value-123' };
    expect(withoutSecrets(env, ['KEY', 'PASSED'], redactor, ['PASSED'])).toEqual({ PATH: '/bin', PASSED: 'sk-value-123' });
  });
});

describe('hooks and secrets', () => {
  const event: HookEvent = {
    event: 'rollback',
    plan: 'p',
    stage: 1,
    stages: 2,
    greenWeight: 0,
    blueModel: 'a',
    greenModel: 'b',
    reason: `hook said ${KEY}`,
    at: 0,
  };

  it('an exec hook gets a redacted reason, no key variable, and its output comes back redacted', async () => {
    const secrets = { redactor: createRedactor([KEY]), envNames: ['KEY'] };
    const hook = { exec: 'printf "%s|%s|" "$BLUEGREEN_REASON" "${KEY-unset}"; echo "leak $LEAK" >&2; exit 4', timeout: 5000, retries: 0 };
    const outcome = await runHook(hook, event, { cwd: tempDir(), env: { PATH: process.env.PATH, KEY, LEAK: 'x' }, secrets: { ...secrets, passEnv: [] } });
    expect(outcome.ok).toBe(false);
    expect(outcome.stdout).toBe('hook said [redacted]|unset|');
    // LEAK carried a different value: kept. A hook echoing a key it got from elsewhere is redacted:
    const echo = await runHook({ ...hook, exec: `echo "${KEY.replace(/"/g, '\\"')}" >&2; exit 3` }, event, {
      cwd: tempDir(),
      env: { PATH: process.env.PATH },
      secrets,
    });
    expect(echo.message).toMatch(/exited 3: \[redacted\]$/);
    expect(JSON.stringify(echo)).not.toContain('sk-test');
  });
});
