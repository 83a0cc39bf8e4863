// The CLI's bundle (dist/bundle/, run by bin/bluegreen.js), built by tools/build.js from tsc's output. A command spent
// most of its start loading modules one file at a time (zod ~95 files, undici, yaml, hdr-histogram, the CLI's own
// ~200): rolldown joins them into a few chunks, ~130-200 ms less CPU per process. dist/'s files stay, for the library
// API (package.json's exports) and its types.
//
// - The proxy's plan loader's worker thread (src/plan/load-in-worker.ts) is an entry too: a proxy's start loads its
//   chunks, not tsc's ~50 files and zod's and yaml's ~95 one by one.
// - Dynamic imports stay lazy chunks: a command loads only what it did before (the proxy no dashboard, `status` no
//   rollout engine).
// - Ink and React are left out (external): the dashboard loads them from node_modules as before, as production builds
//   (src/cli/production-ui.ts picks React's build by NODE_ENV while it imports them); Ink reads its own package.json
//   and Yoga's WebAssembly by paths relative to its files.
// - prom-client is required at run time (src/proxy/prometheus.ts): left out too. So is chalk: the dashboard's theme
//   uses Ink's own copy (src/report/ink/theme.ts), one colour-level detection for both.
// - Every chunk lands in dist/bundle/ itself, two folders down like dist/cli/: the paths the code resolves from its
//   own file (../../package.json for the version, ../../dist/bundle/plan-worker.js, ../../dist/) still hold.
// - Source maps from the chunks back to src/*.ts, through tsc's own maps.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'rolldown';

/** The files bin/bluegreen.js imports, and the plan loader's worker, by their name in the bundle. */
export const CLI_ENTRIES = {
  'early-stop': 'cli/early-stop.js',
  'flush-output': 'core/flush-output.js',
  main: 'cli/main.js',
  context: 'cli/context.js',
  'plan-worker': 'plan/plan-worker.js',
};

const FATAL = new Set(['UNRESOLVED_IMPORT', 'MISSING_EXPORT', 'EVAL', 'IMPORT_IS_UNDEFINED']);

/** hdr-histogram-js finds Node's zlib by a direct eval of require(), which an ES module has none of: it would fall back
 *  to pako's JavaScript deflate. Plain require() calls are resolved by the bundler instead. */
const histogramZlib = {
  name: 'hdr-histogram-zlib',
  transform: {
    filter: { id: /hdr-histogram-js[\\/]dist[\\/]JsHistogram\.encoding\.js$/ },
    handler(code) {
      const plain = code
        .replaceAll(`eval('require("zlib").deflateSync')`, `require("zlib").deflateSync`)
        .replaceAll(`eval('require("zlib").inflateSync')`, `require("zlib").inflateSync`);
      if (plain.includes('eval(')) throw new Error('hdr-histogram-js: its zlib lookup changed; see tools/bundle-cli.js');
      return { code: plain, map: null };
    },
  },
};

/** Each file of tsc's output with its source map (tsc's comment names it), so the bundle's maps reach src/. */
function tscSourceMaps(from) {
  return {
    name: 'tsc-source-maps',
    load: {
      filter: { id: /\.js$/ },
      handler(id) {
        if (!id.startsWith(from + path.sep)) return null;
        const code = readFileSync(id, 'utf8');
        let map = null;
        try {
          map = readFileSync(`${id}.map`, 'utf8');
        } catch (error) {
          if (error.code !== 'ENOENT') throw error;
        }
        return { code, map };
      },
    },
  };
}

/** Bundles the CLI from tsc's output in `from` into `from`/bundle/. */
export async function bundleCli(from) {
  await build({
    input: Object.fromEntries(Object.entries(CLI_ENTRIES).map(([name, file]) => [name, path.join(from, file)])),
    platform: 'node',
    external: [/^ink($|\/)/, /^react($|\/)/, /^chalk($|\/)/, /^prom-client($|\/)/],
    plugins: [histogramZlib, tscSourceMaps(from)],
    // A module it cannot resolve or a direct eval would fail, or differ, only when run: the build stops on them.
    onLog(level, log, handler) {
      if (level === 'warn' && FATAL.has(log.code)) throw new Error(`bundling the CLI: ${log.message}`);
      handler(level, log);
    },
    output: {
      dir: path.join(from, 'bundle'),
      format: 'esm',
      sourcemap: true,
      entryFileNames: '[name].js',
      chunkFileNames: '[name]-[hash].js',
    },
  });
}
