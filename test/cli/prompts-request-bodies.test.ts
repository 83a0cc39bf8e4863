// A prompts file of recorded chat request bodies (the sampled file named under synthetic.prompts) sends each line,
// JSON and all, as one user message's text: validate, --dry-run and rollout warn, naming traffic.sampled.file
// (newuser30: `prompts: samples/traffic.jsonl` was valid without a word).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir, writePlan } from '../helpers/plans.js';

const plan = (prompts: string) => `name: prompts
upstream: { simulate: { models: { a: {}, b: {} } } }
blue: { model: a }
green: { model: b }
traffic: { rate: 20, synthetic: { share: 1, prompts: ${prompts} } }
stages: [{ duration: 30s, green_weight: 0.5 }]
`;

it('validate warns of a prompts file holding chat request bodies, and not of one holding prompts', async () => {
  const dir = tempDir();
  writeFileSync(path.join(dir, 'recorded.jsonl'), '# recorded\n{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}\n');
  writeFileSync(path.join(dir, 'prompts.txt'), '{ braces in a prompt } are fine\nhello\n');
  writePlan(plan('recorded.jsonl'), dir);
  const bodies = await runCli(['validate', 'plan.yaml'], { cwd: dir });
  expect(bodies.code).toBe(0);
  expect(bodies.stdout).toContain(
    `warning: traffic.synthetic.prompts: ${path.join(dir, 'recorded.jsonl')} holds chat request bodies (JSON with a "messages" list), and a prompts file's every line is sent as the text of one user message, JSON and all; replay recorded requests with traffic.sampled.file`,
  );
  writePlan(plan('prompts.txt'), dir);
  const prompts = await runCli(['validate', 'plan.yaml'], { cwd: dir });
  expect(prompts.code).toBe(0);
  expect(prompts.stdout).not.toContain('traffic.synthetic.prompts');
});
