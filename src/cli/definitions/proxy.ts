// `bluegreen proxy`'s command line and its stop signals; the proxy itself (commands/proxy.ts) loads once they are listened for.
import type { Command } from 'commander';
import { EXIT } from '../../core/exit.js';
import type { CliContext } from '../context.js';
import { watchLauncher, type LauncherWatch } from '../launcher.js';
import { SIGNAL_EXIT } from '../stop-signals.js';
import { parseStateDirOption } from '../options.js';
import { afterHelp } from '../help-text.js';

export interface ProxyFlags {
  listen?: string;
  adminListen?: string;
  stateDir?: string;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('proxy')
    .description("serve the application's own requests, split between blue and green by the current route")
    .argument('<plan>', 'the rollout plan (YAML); its proxy block configures the proxy')
    .option('--listen <host:port>', "address to listen on (default: the plan's proxy.listen, else 127.0.0.1:8787)")
    .option('--admin-listen <host:port>', "admin API address (default: the plan's proxy.admin.listen, else 127.0.0.1:8788)")
    .option('--state-dir <dir>', 'where the proxy keeps its route (default .bluegreen, or $BLUEGREEN_STATE_DIR)', parseStateDirOption)
    .addHelpText(
      'after',
      afterHelp(
        `
The plan needs a proxy block (\`proxy: {}\` for the defaults; \`admin: { token_env: VAR }\` in it lets
\`bluegreen rollout\` move the traffic). Without a rollout driving it the proxy serves blue (or green after a
recorded promotion). A non-loopback --listen needs proxy.client_keys_env (keys of 16+ characters). Requests for
models other than blue's (and proxy.alias) pass through to blue's upstream, unless proxy.passthrough lists the
ones that may (the rest get 404). Ctrl-C or SIGTERM closes its ports (admin too) and lets the requests in flight finish
(proxy.limits.drain_timeout, default 25s); a second signal stops at once. See docs/proxy.md.

Examples:
  $ BLUEGREEN_ADMIN_TOKEN=demo-admin-token bluegreen proxy rollouts/demo-live.yaml   # the plan names that variable
  $ OPENAI_BASE_URL=http://127.0.0.1:8787/v1 node app.js
  $ curl -s http://127.0.0.1:8787/metrics
`,
      ),
    )
    .action(async (file: string, flags: ProxyFlags) => {
      const stop = new AbortController();
      // The first signal drains; a second one (Ctrl-C again) cuts what is still running.
      const force = new AbortController();
      const handlers = STOP_SIGNALS.map(([signal, code]) => [signal, () => (stop.signal.aborted ? force.abort() : stop.abort(code))] as const);
      for (const [signal, handler] of handlers) process.on(signal, handler);
      const launcher = watchNpmLauncher(ctx, stop);
      try {
        // Loaded once the signals are listened for: one that comes while the proxy loads stops its start.
        const { runProxy } = await import('../commands/proxy.js');
        ctx.exitCode = await runProxy(file, flags, ctx, stop.signal, undefined, force.signal);
      } finally {
        launcher?.stop();
        for (const [signal, handler] of handlers) process.off(signal, handler);
      }
    });
}

// A closed terminal (SIGHUP) stops the proxy as Ctrl-C does: it drains, closes its connections and removes proxy.json.
const STOP_SIGNALS = [
  ['SIGINT', EXIT.sigint],
  ['SIGTERM', EXIT.sigterm],
  ['SIGHUP', EXIT.sighup],
] as const;

/**
 * `npx bluegreen proxy` stopped through npm (kill of npm's pid, a supervisor stopping it): npm forwards the signal
 * to its /bin/sh only, which dies and leaves the proxy running, re-parented, on its port. Watched as a rollout
 * watches it (launcher.ts). Only under npm: a proxy started with `&` or nohup from a shell that then exits is
 * meant to go on.
 */
function watchNpmLauncher(ctx: CliContext, stop: AbortController): LauncherWatch | undefined {
  if (ctx.env.npm_command === undefined && ctx.env.npm_lifecycle_event === undefined) return undefined;
  return watchLauncher({
    env: ctx.env,
    onEnd: (end) => {
      if (stop.signal.aborted) return;
      ctx.stderr.write(`bluegreen proxy: stopping: ${end.cause}\n`);
      stop.abort(SIGNAL_EXIT[end.signal]);
    },
  });
}
