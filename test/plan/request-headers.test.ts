// upstream.headers (and request.headers) that frame the request: validate passed content-length: 5, and every
// request on both arms then failed (UND_ERR_REQ_CONTENT_LENGTH_MISMATCH) while the rollout promoted unjudged.
import { expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { planFromYaml, planRefusal, simulatedStagesPlan, tempDir, writePlan } from '../helpers/plans.js';

const base = simulatedStagesPlan('framing', [{ duration: '2s', weight: 0.5 }]);
const withHeaders = (headers: string) => base.replace('\nblue:', `\n  headers: ${headers}\nblue:`);

it('a framing or connection header is refused by name, whatever its case, with why', () => {
  const reserved = ['content-length', 'Transfer-Encoding', 'connection', 'keep-alive', 'proxy-connection', 'upgrade', 'te', 'trailer', 'expect', 'Host'];
  for (const name of [...reserved, 'accept-encoding', 'content-encoding']) {
    expect(planRefusal(withHeaders(`{ ${name}: "5" }`)), name).toMatch(new RegExp(`upstream\\.headers\\.${name}: must not be set: .*, found "5"`));
  }
  expect(planRefusal(withHeaders('{ content-length: "5" }'))).toMatch(
    /must not be set: bluegreen sets it from each request's body, and a fixed one fails every request/,
  );
  expect(planRefusal(withHeaders('{ host: api.internal }'))).toMatch(
    /upstream\.headers\.host: must not be set: it is taken from base_url.*put the name in base_url instead/,
  );
});

it("an arm's upstream.headers and request.headers are checked the same way", () => {
  const arms = base
    .replace('blue: { model: a }', 'blue: { model: a, upstream: { headers: { connection: close } } }')
    .replace('green: { model: b }', 'green: { model: b, request: { headers: { Content-Length: "12" } } }');
  const text = planRefusal(arms);
  expect(text).toMatch(/blue\.upstream\.headers\.connection: must not be set: the HTTP client manages its pooled connections itself/);
  expect(text).toMatch(/green\.request\.headers\.Content-Length: must not be set/);
});

it('a header name that is not an HTTP token, or a value with a line break, is refused', () => {
  expect(planRefusal(withHeaders('{ "x team": ml }'))).toMatch(
    /upstream\.headers\.x team: is not a header name \(letters, digits and .* only\): every request would fail/,
  );
  expect(planRefusal(withHeaders('{ x-team: "ml\\r\\nx-injected: 1" }'))).toMatch(/upstream\.headers\.x-team: must not hold a line break or NUL/);
});

it('ordinary headers still pass, credentials included (they are redacted, docs/plan.md)', () => {
  const plan = planFromYaml(withHeaders('{ x-team: ml, OpenAI-Organization: org-1, authorization: "Bearer sk-x", accept: application/json }'));
  expect(plan.arms.blue.upstream.headers).toEqual({ 'x-team': 'ml', 'OpenAI-Organization': 'org-1', authorization: 'Bearer sk-x', accept: 'application/json' });
});

it('validate exits 2 naming the header', async () => {
  const dir = tempDir();
  writePlan(withHeaders('{ content-length: "5" }'), dir);
  const result = await runCli(['validate', 'plan.yaml'], { cwd: dir });
  expect(result.code).toBe(2);
  expect(result.stderr).toMatch(/plan\.yaml:5:30 upstream\.headers\.content-length: must not be set/);
});
