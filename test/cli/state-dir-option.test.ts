// `--state-dir ""` (an unset shell variable, a script's typo) is a usage error for every command that takes
// it, rather than quietly meaning .bluegreen, which may hold another rollout.
import { describe, expect, it } from 'vitest';
import { parseStateDirOption } from '../../src/cli/options.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/plans.js';

const MESSAGE = 'bluegreen: --state-dir expects a folder, got an empty value (leave the flag out for .bluegreen or $BLUEGREEN_STATE_DIR)\n';

describe('--state-dir with an empty value', () => {
  it.each([['rollout', 'missing-plan.yaml'], ['proxy', 'missing-plan.yaml'], ['status'], ['rollback'], ['pause'], ['resume'], ['promote'], ['abort']])(
    '%s refuses it with exit 2, before reading a plan',
    async (...args) => {
      for (const empty of ['', '  ']) {
        const result = await runCli([...args, '--state-dir', empty], { cwd: tempDir() });
        expect(result).toMatchObject({ code: 2, stderr: MESSAGE });
      }
    },
  );

  it('keeps a folder name as given', () => {
    expect(parseStateDirOption('st')).toBe('st');
    expect(() => parseStateDirOption('')).toThrow('--state-dir expects a folder');
  });
});
