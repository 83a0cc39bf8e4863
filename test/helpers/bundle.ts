// bin/bluegreen.js runs the CLI's bundle (dist/bundle/, tools/bundle-cli.js): a few chunks, each holding many modules.
// Tests that look at which modules a command loaded, or hold one while it loads, find them through the chunks' source
// maps, which name every module each chunk holds.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BUNDLE = path.join(ROOT, 'dist', 'bundle');

/**
 * A source as the modules it came from are named without the bundle: our own as tsc's output ("dist/cli/main.js"),
 * a package's as its file ("node_modules/zod/v4/core/core.js", wherever node_modules links to).
 */
function moduleName(source: string): string {
  const file = path.resolve(BUNDLE, source);
  const inPackages = file.lastIndexOf(`${path.sep}node_modules${path.sep}`);
  if (inPackages >= 0)
    return file
      .slice(inPackages + 1)
      .split(path.sep)
      .join('/');
  const fromSrc = path.relative(path.join(ROOT, 'src'), file);
  if (fromSrc.startsWith('..')) throw new Error(`a chunk's source outside src/ and node_modules/: ${source}`);
  return `dist/${fromSrc
    .split(path.sep)
    .join('/')
    .replace(/\.tsx?$/, '.js')}`;
}

/** Each chunk of the bundle (its file name in dist/bundle/) with the modules it holds. */
export function bundleChunks(): Map<string, string[]> {
  const chunks = new Map<string, string[]>();
  for (const file of readdirSync(BUNDLE).filter((name) => name.endsWith('.js'))) {
    // Rolldown's own helpers (rolldown-runtime-*.js) come from no module and have no map.
    const map = existsSync(path.join(BUNDLE, `${file}.map`))
      ? (JSON.parse(readFileSync(path.join(BUNDLE, `${file}.map`), 'utf8')) as { sources: string[] })
      : { sources: [] };
    chunks.set(file, map.sources.map(moduleName));
  }
  return chunks;
}

/** The chunk, as a path under dist/ ("bundle/rollout-AbC1.js"), that holds `module` (named as bundleChunks names it). */
export function chunkHolding(module: string): string {
  const holding = [...bundleChunks()].filter(([, modules]) => modules.includes(module)).map(([file]) => file);
  if (holding.length !== 1) throw new Error(`${module} is in ${holding.length} chunks of the bundle: ${holding.join(', ')}`);
  return `bundle/${holding[0]}`;
}

/**
 * The modules loaded, given the URLs (or package-relative paths) a load hook saw: a chunk of the bundle stands for the
 * modules it holds, anything else for itself. Package-relative, as the chunks' modules are named.
 */
export function modulesIn(loaded: string[]): string[] {
  const chunks = bundleChunks();
  const root = `${pathToFileURL(ROOT).href}/`;
  return loaded.flatMap((url) => {
    const file = url.startsWith(root) ? url.slice(root.length) : url;
    return file.startsWith('dist/bundle/') ? (chunks.get(file.slice('dist/bundle/'.length)) ?? [file]) : [file];
  });
}
