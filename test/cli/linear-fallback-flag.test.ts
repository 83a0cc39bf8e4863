// review36b: V8 caches a pattern's compiled code by its source, and code run before the linear-time fallback was
// turned on keeps backtracking without bound, answerPattern's own call notwithstanding. The CLI turns the fallback on
// as it starts, so a plan's quality.regex run at any point after main() began is bounded. A fresh process, since this
// one's flags may already be set; a hang fails the test by its timeout and the child is killed.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { expect, it } from 'vitest';
import { killAfterTest } from '../helpers/processes.js';

const MAIN = new URL('../../dist/bundle/main.js', import.meta.url).href;

it('main() turns on the linear-time fallback before anything runs a pattern: ^(\\w+\\s?)+$ on 40 letters and a full stop ends', async () => {
  const script = `
    const { main } = await import(${JSON.stringify(MAIN)});
    await main(['node', 'bluegreen', '--version']);
    process.stdout.write('matched: ' + new RegExp('^(\\\\w+\\\\s?)+$').test('a'.repeat(40) + '.') + '\\n');
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  killAfterTest(child);
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  expect(code).toBe(0);
  expect(out).toMatch(/^matched: false$/m);
});
