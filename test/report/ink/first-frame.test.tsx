// The dashboard's first frame starts at column 0 even after the terminal echoed a key pressed before raw mode
// (found by newuser20: "p" pressed while the rollout started left a stale, wrapped header line above every frame).
import { PassThrough } from 'node:stream';
import { Text } from 'ink';
import { expect, it } from 'vitest';
import { CLEAR_LINE, inkRenderer } from '../../../src/report/ink/controller.js';

it('the real renderer returns to column 0 and clears the line before its first frame, and only then', async () => {
  const written: string[] = [];
  const stdout = Object.assign(new PassThrough(), { isTTY: false, columns: 80, rows: 24 });
  stdout.on('data', (chunk: Buffer) => written.push(chunk.toString()));
  const stdin = Object.assign(new PassThrough(), { isTTY: false });
  const handle = inkRenderer({ stdout, stdin, stderr: new PassThrough() })(<Text>frame one</Text>);
  handle.rerender(<Text>frame two</Text>);
  handle.unmount();
  await handle.waitUntilExit();
  const output = written.join('');
  expect(output.startsWith(CLEAR_LINE)).toBe(true);
  // Under CI=true ink writes only the last frame, at unmount: either frame is the first one written.
  expect(output.search(/frame (one|two)/)).toBeGreaterThan(0);
  expect(output.split(CLEAR_LINE)).toHaveLength(2);
});
