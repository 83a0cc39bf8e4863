// An upstream echoing the proxy's key in hex (a dump of the request's bytes), as JSON \uXXXX escapes, or upper- or
// lower-cased, in an answer header or a whole answer's body (a success or an error): none of it reaches the
// application. Real servers on 127.0.0.1.
import { expect, it } from 'vitest';
import { SECRET_PREFIX_LENGTH } from '../../src/core/redact.js';
import { otherSpellings } from '../../src/core/secret-spellings.js';
import { openAiCompletion, runProxy, scriptedPlan, scriptedServer, setRoute } from './helpers.js';

const KEY = 'sk-Upstream-Mixed-Case-0123456789abcdef';
const hex = (text: string) => Buffer.from(text).toString('hex');
const escaped = (text: string) => [...text].map((char) => `\\u${(char.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`).join('');
/** Each form as an upstream would write it. */
const FORMS = (sent: string): Record<string, string> => ({
  hex: hex(sent),
  HEX: hex(sent).toUpperCase(),
  escaped: escaped(sent),
  ESCAPED: escaped(sent).replace(/(?<=\\u)[0-9a-f]{4}/g, (digits) => digits.toUpperCase()),
  upper: sent.toUpperCase(),
  lower: sent.toLowerCase(),
});

it('the test spells the key as the proxy looks for it', () => {
  expect(new Set(otherSpellings(KEY))).toEqual(new Set(Object.values(FORMS(KEY))));
});

it('redacts the key in hex, \\uXXXX escapes, upper or lower case, in answer headers and whole bodies (success, not ASCII, error)', async () => {
  const scripted = await scriptedServer((req, res, body) => {
    const sent = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    const forms = FORMS(sent);
    const headers = Object.fromEntries(Object.entries(forms).map(([name, form]) => [`x-echo-${name}`, `key=${form}`]));
    const failing = body.includes('"fail"');
    res.writeHead(failing ? 500 : 200, { 'content-type': 'application/json', ...headers });
    // The body is JSON as an upstream writes it: the \u forms are escapes in its text, as a serialiser escaping all it writes puts them.
    // A body that is not ASCII is searched as UTF-8 text (collected.ts answerText), not byte for character.
    const text =
      (body.includes('"utf8"') ? 'café, 日本語 | ' : '') +
      Object.entries(forms)
        .map(([name, form]) => `${name} ${form}`)
        .join(' | ');
    const raw = JSON.stringify(failing ? { error: { message: 'MARK', type: 'server_error', code: null } } : JSON.parse(openAiCompletion('blue-model', 'MARK')));
    res.end(raw.replace('MARK', () => text));
  });
  const running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ fallback: false }' }), { env: { UPSTREAM_KEY: KEY } });
  setRoute(running.proxy, 0);
  for (const content of ['ok', 'utf8', 'fail']) {
    const res = await fetch(`${running.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'blue-model', messages: [{ role: 'user', content }] }),
    });
    const text = `${JSON.stringify([...res.headers])}\n${await res.text()}`;
    expect(scripted.seen.at(-1)?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(res.status, content).toBe(content === 'fail' ? 500 : 200);
    if (content === 'utf8') expect(text).toContain('café, 日本語');
    for (const [name, form] of Object.entries(FORMS(KEY))) {
      expect(text, `${content}: ${name}`).not.toContain(form.slice(0, SECRET_PREFIX_LENGTH));
      expect(text, `${content}: ${name}`).not.toContain(form.slice(-SECRET_PREFIX_LENGTH));
    }
    expect(text).toContain('x-echo-hex');
    expect(text.match(/\[redacted\]/g)?.length).toBeGreaterThanOrEqual(12);
  }
});
