// One bench script run to its end, as CI would run it: its exit code and what it printed.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { killAfterTest } from '../helpers/processes.js';

export interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
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
