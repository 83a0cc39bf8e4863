// An exec hook whose script is missing or not executable fails as it runs (/bin/sh: exit 127 or 126): on_stage's
// failure rolls back stage 1, a failing on_rollback leaves traffic where it is. validate says so first (newuser30:
// `on_stage: { exec: ./set-weight.sh }` with no such file was valid, and the rollout rolled back at stage 1).
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { planWarnings } from '../../src/plan/warnings.js';
import { planFromYaml, tempDir } from '../helpers/plans.js';

const hookWarnings = (dir: string, hooks: string) =>
  planWarnings(
    planFromYaml(
      `name: hooked
upstream: { simulate: { models: { a: {}, b: {} } } }
blue: { model: a }
green: { model: b }
traffic: { rate: 20 }
stages: [{ duration: 30s, green_weight: 0.5 }]
hooks: ${hooks}
`,
      dir,
    ),
  ).filter((warning) => warning.keyPath.startsWith('hooks.'));

it('warns of a hook script that is not in the plan’s folder, or not executable', () => {
  const dir = tempDir();
  writeFileSync(path.join(dir, 'back.sh'), '#!/bin/sh\nexit 0\n');
  chmodSync(path.join(dir, 'back.sh'), 0o644);
  expect(hookWarnings(dir, '{ on_stage: { exec: ./set-weight.sh 0.5 }, on_rollback: { exec: ./back.sh } }')).toEqual([
    {
      keyPath: 'hooks.on_stage.exec',
      message: `./set-weight.sh is not there: ${path.join(dir, 'set-weight.sh')} (exec hooks run in the plan's folder); the hook would fail as it runs (exit 127)`,
    },
    {
      keyPath: 'hooks.on_rollback.exec',
      message: './back.sh is not executable: the hook would fail as it runs (exit 126); chmod +x ./back.sh, or write sh ./back.sh',
    },
  ]);
});

it('says nothing of a script that runs, of a command on the PATH, or of shell syntax only the shell can read', () => {
  const dir = tempDir();
  mkdirSync(path.join(dir, 'scripts'));
  writeFileSync(path.join(dir, 'scripts', 'set.sh'), '#!/bin/sh\nexit 0\n');
  chmodSync(path.join(dir, 'scripts', 'set.sh'), 0o755);
  expect(
    hookWarnings(dir, '{ on_stage: { exec: ./scripts/set.sh }, on_rollback: { exec: "kubectl apply -f blue.yaml" }, on_abort: { exec: "$HOME/x.sh" } }'),
  ).toEqual([]);
});
