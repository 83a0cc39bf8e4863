// `bluegreen sim`: run the simulated upstream on its own, for trying plans, clients and dashboards by hand.
import path from 'node:path';
import { parseWithSchema, readPlanText } from '../../plan/load.js';
import type { SimulateConfig } from '../../plan/schema.js';
import { simulateSchema } from '../../plan/sim-schema.js';
import { builtinSimConfig, startSimulator } from '../../sim/index.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../../core/exit.js';
import { MAX_SEED, parseIntegerOption } from '../options.js';
import { MAX_PORT } from '../../core/port.js';
import { errorCode } from '../../core/errors.js';
import { DEFAULT_SIM_PORT, type SimOptions } from '../definitions/sim.js';

/** The config to serve: the file's simulate block (or the built-in one), with the flags on top. */
export function simConfig(options: SimOptions, cwd: string): SimulateConfig {
  // Read from the resolved path, report positions against the name the operator typed.
  const config =
    options.config === undefined ? builtinSimConfig() : parseWithSchema(options.config, readPlanText(path.resolve(cwd, options.config)), simulateSchema).value;
  const port = options.port !== undefined ? parseIntegerOption(options.port, '--port', 0, MAX_PORT) : (config.port ?? DEFAULT_SIM_PORT);
  const seed = options.seed !== undefined ? parseIntegerOption(options.seed, '--seed', 0, MAX_SEED) : config.seed;
  return { ...config, port, ...(seed !== undefined && { seed }) };
}

/** Serves until `stop` aborts, then closes. */
export async function runSim(options: SimOptions, ctx: CliContext, stop: AbortSignal): Promise<void> {
  const config = simConfig(options, ctx.cwd);
  const sim = await startSimulator(config).catch((error: unknown) => {
    const code = errorCode(error);
    if (code === 'EADDRINUSE') throw new UsageError(`port ${config.port} is already in use; pick another with --port (0 picks a free one)`);
    if (code === 'EACCES') throw new UsageError(`not allowed to listen on port ${config.port}; pick another with --port`);
    throw error;
  });
  ctx.stdout.write(`bluegreen sim listening on ${sim.baseUrl} (OpenAI /v1/chat/completions, Anthropic /v1/messages)\n`);
  if (!stop.aborted) await new Promise<void>((resolve) => stop.addEventListener('abort', () => resolve(), { once: true }));
  await sim.close();
  ctx.exitCode = 0;
}
