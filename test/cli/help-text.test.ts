// The prose after a command's options fits the terminal; its examples stay as written (found by newuser20 at 80 columns).
import { expect, it } from 'vitest';
import { wrapProse } from '../../src/cli/help-text.js';

it('rewraps prose paragraphs to the width and leaves blank and indented (example) lines alone', () => {
  const text = `
The plan needs a proxy block (\`proxy: {}\` for the defaults) and a rollout moves the traffic through its admin
API, stage by stage, under a lease.

Examples:
  $ curl -s http://127.0.0.1:8787/v1/chat/completions -H 'content-type: application/json' -d '{"model":"gpt-4o"}'
`;
  const lines = wrapProse(text, 80).split('\n');
  expect(lines).toEqual([
    '',
    'The plan needs a proxy block (`proxy: {}` for the defaults) and a rollout moves',
    'the traffic through its admin API, stage by stage, under a lease.',
    '',
    'Examples:',
    `  $ curl -s http://127.0.0.1:8787/v1/chat/completions -H 'content-type: application/json' -d '{"model":"gpt-4o"}'`,
    '',
  ]);
});
