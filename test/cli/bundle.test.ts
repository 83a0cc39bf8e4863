// The CLI runs from its bundle (dist/bundle/, tools/bundle-cli.js). What bundling could change unseen, checked on the
// bundle itself: the paths its code resolves from its own file, a package's lookup of Node's zlib, and stacks that
// still lead to src/.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { bundleChunks, chunkHolding } from '../helpers/bundle.js';

const BUNDLE = path.resolve(import.meta.dirname, '../../dist/bundle');

it('puts every chunk in dist/bundle/ itself, two folders down as dist/cli/ is: paths resolved from a file still hold', () => {
  expect(readdirSync(BUNDLE).filter((name) => statSync(path.join(BUNDLE, name)).isDirectory())).toEqual([]);
  // What such paths name: the package.json read for the version, the plan loader's worker, this install's dist/.
  const version = readFileSync(path.join(BUNDLE, chunkHolding('dist/cli/version.js').slice('bundle/'.length)), 'utf8');
  expect(version).toContain('"../../package.json"');
  const worker = readFileSync(path.join(BUNDLE, chunkHolding('dist/plan/load-in-worker.js').slice('bundle/'.length)), 'utf8');
  expect(worker).toContain('"../../dist/bundle/plan-worker.js"');
});

it("keeps hdr-histogram's compression on Node's zlib: no direct eval of require() (none in an ES module) left", () => {
  const chunks = [...bundleChunks()].filter(([, modules]) => modules.includes('node_modules/hdr-histogram-js/dist/JsHistogram.encoding.js'));
  expect(chunks).toHaveLength(1);
  const code = readFileSync(path.join(BUNDLE, chunks[0]![0]), 'utf8');
  expect(code).toMatch(/__require\("zlib"\)\.deflateSync/);
  expect(code).toMatch(/__require\("zlib"\)\.inflateSync/);
  for (const file of readdirSync(BUNDLE).filter((name) => name.endsWith('.js')))
    expect(readFileSync(path.join(BUNDLE, file), 'utf8'), file).not.toMatch(/\beval\(/);
});

it("has source maps back to src/: a stack under node's --enable-source-maps names the TypeScript file and line", () => {
  // buildProgram calls each command module's register(): a module without one fails inside the bundle's main.js.
  const script = `const { buildProgram } = await import('./dist/bundle/main.js');
    try { buildProgram(null, [{}]); } catch (error) { process.stdout.write(error.stack); }`;
  const stack = execFileSync(process.execPath, ['--enable-source-maps', '--input-type=module', '-e', script], {
    cwd: path.resolve(BUNDLE, '../..'),
    encoding: 'utf8',
  });
  expect(stack).toMatch(/^TypeError: .*register/);
  expect(stack).toMatch(/\/src\/cli\/main\.ts:\d+:\d+\)/);
});
