#!/usr/bin/env node
// Thin shim: the CLI lives in the compiled dist/ (built by `npm run build`, run by `npm ci` via prepare), bundled
// into dist/bundle/ (tools/bundle-cli.js: a few chunks load faster than hundreds of files).
// The UI libraries load only when a dashboard is drawn, as production builds (src/cli/production-ui.ts).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// A build stopped part-way (tools/build.js) is a mix of new, old and missing files: refused, not run. So is a dist/
// built before the CLI was bundled (a checkout pulled and not rebuilt): it has the marker and no bundle.
if (!existsSync(new URL('../dist/BUILD-COMPLETE', import.meta.url)) || !existsSync(new URL('../dist/bundle/main.js', import.meta.url))) {
  const dir = fileURLToPath(new URL('..', import.meta.url));
  process.stderr.write(
    `bluegreen: its build in ${dir}dist is incomplete (stopped part-way, failed, or from an older version): build it again with: npm run build --prefix ${dir}\n`,
  );
  process.exit(1);
}

// A Ctrl-C while the CLI loads (a second or more on a busy machine) says so, where it exited 130 in silence.
const { stopEarly } = await import('../dist/bundle/early-stop.js');
const { exitWhenFlushed } = await import('../dist/bundle/flush-output.js');
// Exits at once (nothing else is queued yet): waiting for output to drain would let the start go on meanwhile.
const loading = stopEarly({ before: 'while starting', write: (text) => process.stderr.write(text), exit: (code) => process.exit(code) });
const { main } = await import('../dist/bundle/main.js');
const { processContext } = await import('../dist/bundle/context.js');
loading();

// The process exits once main() returns and its output is flushed: a rollout's hold on stop signals after its end
// lasts to the exit (a SIGTERM while stdout drained killed a promoted rollout with 143), and a signal then exits at
// once with the rollout's code (a reader that stopped reading left it deaf to SIGTERM).
let returned;
main(process.argv, { ...processContext(), exitsAfterMain: (code) => process.exit(returned ?? code) }).then(
  // Never process.exit() with output still queued for a pipe: it would be cut (`status --json | jq`).
  (code) => {
    returned = code;
    return exitWhenFlushed(code);
  },
  (error) => {
    // Only reached on a bug: every expected failure is mapped to an exit code inside main().
    process.stderr.write(`bluegreen: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
