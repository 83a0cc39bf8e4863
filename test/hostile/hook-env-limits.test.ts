// Plan text that reaches a hook's environment or argument list: Linux refuses to start a process with one
// string over 128 KiB (MAX_ARG_STRLEN). A 200 KB plan name passed validate and then no hook could start
// ("spawn E2BIG"), the on_stage hook standing in for on_rollback included: traffic was left where it was.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { runHook } from '../../src/hooks/index.js';
import { MAX_HOOK_COMMAND_LENGTH } from '../../src/plan/hooks-schema.js';
import { MAX_NAME_LENGTH } from '../../src/plan/schema-fields.js';
import { planFromYaml, planRefusal, simulatedStagesPlan, tempDir } from '../helpers/plans.js';

const plan = (name: string, hooks = "  on_stage: { exec: 'true' }\n") =>
  `${simulatedStagesPlan(JSON.stringify(name), [{ duration: '2s', weight: 0.5 }])}hooks:\n${hooks}`;

it('a plan name, or a model name, over 256 characters is refused, saying why', () => {
  expect(planRefusal(plan('n'.repeat(200_000)))).toMatch(
    /name: must be at most 256 characters: it is shown on one line and hooks get it in their environment \(BLUEGREEN_PLAN\.\.\.\), where Linux refuses a variable over 128 KiB, found "n{37}\.\.\."/,
  );
  expect(planRefusal(plan('n'.repeat(MAX_NAME_LENGTH + 1)))).toMatch(/name: must be at most 256 characters/);
  const longModel = plan('ok').replace('green: { model: b }', `green: { model: ${'m'.repeat(MAX_NAME_LENGTH + 1)} }`);
  expect(planRefusal(longModel)).toMatch(/green\.model: must be at most 256 characters/);
});

it('an exec command over 16,384 characters is refused: it is one argument to /bin/sh', () => {
  const long = `  on_stage: { exec: 'echo ${'x'.repeat(MAX_HOOK_COMMAND_LENGTH)}' }\n`;
  expect(planRefusal(plan('ok', long))).toMatch(
    /hooks\.on_stage\.exec: must be at most 16,384 characters: it is passed to \/bin\/sh as one argument, which Linux limits to 128 KiB; put a longer command in a script/,
  );
});

it('a hook of a plan whose names are at the limit starts and sees them whole', async () => {
  // Three bytes a character in UTF-8: the longest names in bytes that the limits allow.
  const name = '名'.repeat(MAX_NAME_LENGTH);
  const model = 'モ'.repeat(MAX_NAME_LENGTH);
  const command = `printf '%s\\n' "$BLUEGREEN_PLAN" "$BLUEGREEN_GREEN_MODEL" > seen.txt; : ${'x'.repeat(MAX_HOOK_COMMAND_LENGTH - 200)}`;
  const dir = tempDir('bluegreen-hook-limits-');
  const loaded = planFromYaml(plan(name, `  on_stage:\n    exec: |-\n      ${command}\n`).replace('green: { model: b }', `green: { model: ${model} }`), dir);
  expect(loaded.name).toBe(name);
  const hook = loaded.hooks?.on_stage;
  if (!hook) throw new Error('the plan has no on_stage hook');
  const event = { event: 'stage' as const, plan: loaded.name, stage: 1, stages: 1, greenWeight: 0.5, blueModel: 'a', greenModel: model, at: 0 };
  const outcome = await runHook(hook, event, { cwd: loaded.source.dir, env: { PATH: process.env.PATH } });
  expect(outcome.ok, outcome.message).toBe(true);
  expect(readFileSync(path.join(dir, 'seen.txt'), 'utf8')).toBe(`${name}\n${model}\n`);
});
