// One bench script run to its end, as CI would run it: its exit code and what it printed.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { killAfterTest } from '../helpers/processes.js';

export interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * A NODE_OPTIONS under which every module a script loads is named on its stderr ("LOADED <url>"): for a test of what a
 * script does not load.
 */
export const NAMING_LOADS = (() => {
  const hook = `export async function load(url, context, next) { process.stderr.write('LOADED ' + url + '\\n'); return next(url, context); }`;
  const register = `import { register } from 'node:module'; register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));`;
  return `--import=data:text/javascript,${encodeURIComponent(register)}`;
})();

/** The URLs of the modules a script run under NAMING_LOADS loaded, and its stderr without them. */
export function loadsOf(stderr: string): { loaded: string[]; stderr: string } {
  const lines = stderr.split('\n');
  return {
    loaded: lines.filter((line) => line.startsWith('LOADED ')).map((line) => line.slice('LOADED '.length)),
    stderr: lines.filter((line) => !line.startsWith('LOADED ')).join('\n'),
  };
}

/** Runs `node script ...args` (`env` added to this process's), killed if the test ends first. */
export async function runScript(script: string, args: string[], env: Record<string, string> = {}): Promise<ScriptRun> {
  const child = killAfterTest(spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } }));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}
