import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runSim, simConfig } from '../../src/cli/commands/sim.js';
import { register } from '../../src/cli/definitions/sim.js';
import type { CliContext } from '../../src/cli/context.js';
import { UsageError } from '../../src/core/exit.js';
import { buildProgram } from '../../src/cli/main.js';
import { PlanError } from '../../src/plan/errors.js';

function context(cwd = process.cwd()): CliContext & { out: () => string } {
  const stdout = new PassThrough();
  const chunks: string[] = [];
  stdout.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  return { stdout, stderr: new PassThrough(), stdin: new PassThrough(), env: {}, cwd, exitCode: -1, out: () => chunks.join('') };
}

function tempFile(name: string, text: string): { dir: string; file: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'bluegreen-sim-'));
  writeFileSync(path.join(dir, name), text);
  return { dir, file: name };
}

describe('bluegreen sim', () => {
  it('prints one listening line, serves until stopped, then closes with exit 0', async () => {
    const ctx = context();
    const stop = new AbortController();
    const running = runSim({ port: '0' }, ctx, stop.signal);
    const [chunk] = (await once(ctx.stdout, 'data')) as [Buffer];
    const line = chunk.toString();
    expect(line).toMatch(/^bluegreen sim listening on http:\/\/127\.0\.0\.1:\d+\/v1 \(OpenAI \/v1\/chat\/completions, Anthropic \/v1\/messages\)\n$/);
    const baseUrl = /(http:\S+\/v1)/.exec(line)?.[1] ?? '';
    const models = (await (await fetch(`${baseUrl}/models`)).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toEqual(['gpt-4o', 'gpt-4.1', 'claude-sonnet-4']);
    stop.abort();
    await running;
    expect(ctx.exitCode).toBe(0);
    expect(ctx.out()).toBe(line);
    await expect(fetch(`${baseUrl}/models`)).rejects.toThrow();
  });

  it('reads a simulate block from --config, with --seed and --port on top', () => {
    const { dir, file } = tempFile('sim.yaml', 'seed: 3\nport: 9911\nmodels:\n  m: { latency: { p50: 5ms, p95: 1s }, error_rate: 0.1 }\n');
    const config = simConfig({ config: file }, dir);
    expect(config).toMatchObject({ seed: 3, port: 9911, models: { m: { latency: { p50: 5, p95: 1000 }, error_rate: 0.1 } } });
    expect(simConfig({ config: file, seed: '8', port: '0' }, dir)).toMatchObject({ seed: 8, port: 0 });
    expect(simConfig({}, dir).port).toBe(8787);
  });

  it('reports a bad config file with file:line:col', () => {
    const { dir, file } = tempFile('bad.yaml', 'models:\n  m: { error_rate: 2 }\n');
    expect(() => simConfig({ config: file }, dir)).toThrow(PlanError);
    expect(() => simConfig({ config: file }, dir)).toThrow(/bad\.yaml:2:\d+ models\.m\.error_rate/);
  });

  it('rejects a bad port or seed as a usage error', () => {
    for (const port of ['70000', '-1', 'abc', '1.5']) expect(() => simConfig({ port }, '.')).toThrow(UsageError);
    expect(() => simConfig({ seed: 'x' }, '.')).toThrow(/--seed/);
  });

  it('exits 2 through the program on a bad port, and documents itself in --help', async () => {
    const ctx = context();
    const program = buildProgram(ctx, [register]);
    await expect(program.parseAsync(['node', 'bluegreen', 'sim', '--port', 'nope'])).rejects.toThrow(UsageError);
    const helpCtx = context();
    await expect(buildProgram(helpCtx, [register]).parseAsync(['node', 'bluegreen', 'sim', '--help'])).rejects.toMatchObject({
      code: 'commander.helpDisplayed',
    });
    expect(helpCtx.out()).toContain('--config <file>');
    expect(helpCtx.out()).toContain('$ bluegreen sim --port 8787');
  });

  it('says so when the port is taken', async () => {
    const ctx = context();
    const stop = new AbortController();
    const first = runSim({ port: '0' }, ctx, stop.signal);
    const [chunk] = (await once(ctx.stdout, 'data')) as [Buffer];
    const port = /:(\d+)\/v1/.exec(chunk.toString())?.[1] ?? '';
    await expect(runSim({ port }, context(), new AbortController().signal)).rejects.toThrow(/already in use/);
    stop.abort();
    await first;
  });
});
