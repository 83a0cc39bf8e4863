// `bluegreen proxy` loads its plan in a worker thread that exits (src/plan/load-in-worker.ts), so the plan's schema
// (zod) does not stay in the heap of a process that serves for days: the plan it gets is loadPlan's, a bad plan is
// refused with the same problems and exit code as `validate`'s, and the running proxy never imported zod.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, constants, openSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadPlan } from '../../src/plan/load.js';
import { loadPlanInWorker } from '../../src/plan/load-in-worker.js';
import { PlanError } from '../../src/plan/errors.js';
import { modulesIn } from '../helpers/bundle.js';
import { runCli } from '../helpers/cli.js';
import { killAfterTest } from '../helpers/processes.js';
import { tempDir, writePlan } from '../helpers/plans.js';
import { until } from '../helpers/until.js';
import { simPlan } from './helpers.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('loading the proxy plan in a worker', () => {
  it('gives the plan loadPlan gives', async () => {
    const dir = tempDir();
    const file = writePlan(simPlan({ proxy: '{ alias: [chat], limits: { max_concurrency: 99 } }', green: 'error_rate: 0.1' }), dir);
    expect(await loadPlanInWorker(file, dir)).toEqual(loadPlan(file, dir));
  });

  it("refuses a bad plan with loadPlan's PlanError: every problem, positioned", async () => {
    const dir = tempDir();
    const file = writePlan(simPlan({ proxy: '{ listen: nowhere, colour: red }' }), dir);
    const refused = await loadPlanInWorker(file, dir).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(PlanError);
    expect(() => loadPlan(file, dir)).toThrow((refused as PlanError).message);
    expect((refused as PlanError).problems.map((problem) => problem.keyPath)).toContain('proxy.colour');
  });

  it('`bluegreen proxy` on a bad plan says what `validate` says, exit 2', async () => {
    const dir = tempDir();
    const file = writePlan(simPlan({ proxy: '{ fallback: maybe }' }).replace('green_weight: 0.5', 'green_weight: 2'), dir);
    const proxy = await runCli(['proxy', file, '--listen', '127.0.0.1:0', '--state-dir', dir], { cwd: dir });
    const validate = await runCli(['validate', file], { cwd: dir });
    expect(proxy.code).toBe(2);
    expect(validate.code).toBe(2);
    expect(proxy.stderr).toMatch(/stages\[0\]\.green_weight: .*\n.*proxy\.fallback: /);
    expect(proxy.stderr).toBe(validate.stderr);
    expect(proxy.stderr).not.toContain('listening on');
  });

  it('a signal while the plan is read from a named pipe that sends nothing stops the start (it waited for good, deaf to SIGTERM)', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'plan.yaml');
    execFileSync('mkfifo', [file]);
    // Held open for writing here, so the pipe has a writer that sends nothing: the proxy's read waits.
    const writer = openSync(file, constants.O_RDWR | constants.O_NONBLOCK);
    try {
      const child = killAfterTest(
        spawn(process.execPath, ['bin/bluegreen.js', 'proxy', file, '--listen', '127.0.0.1:0', '--state-dir', dir], {
          cwd: ROOT,
          env: { ...process.env, CI: 'true' },
          stdio: ['ignore', 'ignore', 'pipe'],
        }),
      );
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      // 'close', not 'exit': the exit can be seen before its last line on stderr (asserted whole) is read.
      const exited = once(child, 'close');
      // Its stop signals are listened for before the plan is read: once the pipe is open, SIGTERM is the proxy's.
      await until(() => opened(child.pid ?? 0, file), 'the proxy to open the pipe');
      child.kill('SIGTERM');
      const [code] = await exited;
      expect(code).toBe(143);
      expect(stderr).toBe('bluegreen proxy: stopped while starting, before it served anything\n');
    } finally {
      closeSync(writer);
    }
  });
});

/** Whether process `pid` holds `file` open. */
function opened(pid: number, file: string): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === file;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

/**
 * The modules a command's main thread imports, from bin/bluegreen.js down: a resolve hook in a fresh process writes
 * every import (importer and imported) to a file. A worker's entry is no import of the main thread's, so what only the
 * worker imports is not reached from the bin (whether or not the hook also sees the worker's imports).
 */
function reachedFromBin(edgesFile: string): Set<string> {
  const imports = new Map<string, string[]>();
  for (const line of readFileSync(edgesFile, 'utf8').trim().split('\n')) {
    const [from, to] = line.split(' ') as [string, string];
    imports.set(from, [...(imports.get(from) ?? []), to]);
  }
  const bin = pathToFileURL(path.join(ROOT, 'bin/bluegreen.js')).href;
  const reached = new Set([bin]);
  const next = [bin];
  for (let url = next.pop(); url !== undefined; url = next.pop()) {
    for (const imported of imports.get(url) ?? []) {
      if (reached.has(imported)) continue;
      reached.add(imported);
      next.push(imported);
    }
  }
  return reached;
}

/**
 * The imports of a `bluegreen proxy` started up to "listening on", as "importer imported" lines (the importer "-" for a
 * thread's entry): a resolve hook, registered in the main thread and again in the plan loader's worker (--import is in
 * the worker's execArgv too), writes each one to a file.
 */
async function proxyImports(dir: string): Promise<string> {
  const file = writePlan(simPlan({ proxy: '{}' }), dir);
  const edges = path.join(dir, 'imports.txt');
  const hook = `import { appendFileSync } from 'node:fs';
    export async function resolve(specifier, context, next) {
      const resolved = await next(specifier, context);
      appendFileSync(${JSON.stringify(edges)}, (context.parentURL ?? '-') + ' ' + resolved.url + '\\n');
      return resolved;
    }`;
  const register = `import { register } from 'node:module'; register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));`;
  // Killed when the test ends, should it fail before the SIGTERM below (the file's worker runs other files next).
  const child = killAfterTest(
    spawn(
      process.execPath,
      [`--import=data:text/javascript,${encodeURIComponent(register)}`, 'bin/bluegreen.js', 'proxy', file, '--listen', '127.0.0.1:0', '--state-dir', dir],
      { cwd: ROOT, env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'ignore', 'pipe'] },
    ),
  );
  const exited = once(child, 'exit');
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('listening on')) resolve();
    });
    void exited.then(() => reject(new Error(`the proxy exited before listening: ${stderr}`)));
  });
  child.kill('SIGTERM');
  await exited;
  return edges;
}

describe('the running proxy', () => {
  it('has not imported the plan schema (zod) or the YAML parser', async () => {
    const edges = await proxyImports(tempDir());
    // The bin runs the CLI's bundle: each chunk reached stands for the modules it holds.
    const reached = modulesIn([...reachedFromBin(edges)]);
    // The graph was recorded: the proxy's own server is in it.
    expect(reached).toContain('dist/proxy/server.js');
    expect(reached.filter((file) => /(^|\/)node_modules\/(zod|yaml)\/|^dist\/plan\/(schema|load)\.js$/.test(file))).toEqual([]);
  });

  it("loads its plan from the bundle's chunks too: no file of tsc's dist/ or of a bundled package, one by one", async () => {
    const edges = await proxyImports(tempDir());
    const loaded = [
      ...new Set(
        readFileSync(edges, 'utf8')
          .trim()
          .split('\n')
          .map((line) => line.split(' ')[1]!),
      ),
    ];
    // The worker ran, from the bundle, and loaded the plan's schema (its chunks).
    expect(loaded).toContain(pathToFileURL(path.join(ROOT, 'dist/bundle/plan-worker.js')).href);
    expect(modulesIn(loaded)).toContain('dist/plan/schema.js');
    const dist = pathToFileURL(path.join(ROOT, 'dist')).href;
    expect(loaded.filter((url) => (url.startsWith(`${dist}/`) && !url.startsWith(`${dist}/bundle/`)) || url.includes('/node_modules/'))).toEqual([]);
  });
});
