#!/usr/bin/env node
// Thin shim: the CLI lives in the compiled dist/ (built by `npm run build`, run by `npm ci` via prepare).
// The UI libraries load only when a dashboard is drawn, as production builds (src/cli/production-ui.ts).
const { main } = await import('../dist/cli/main.js');
const { exitWhenFlushed } = await import('../dist/core/flush-output.js');

main(process.argv).then(
  // Never process.exit() with output still queued for a pipe: it would be cut (`status --json | jq`).
  (code) => exitWhenFlushed(code),
  (error) => {
    // Only reached on a bug: every expected failure is mapped to an exit code inside main().
    process.stderr.write(`bluegreen: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
