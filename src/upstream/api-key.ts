// Finds the API key: the named environment variable, else the same name in ./.env. Never logged.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function readDotEnv(cwd: string): Record<string, string | undefined> {
  let text: string;
  try {
    text = readFileSync(path.join(cwd, '.env'), 'utf8');
  } catch {
    // No (readable) .env is the common case, not an error: the caller reports the key as not set.
    return {};
  }
  return parseEnv(text);
}

/**
 * Why readApiKey found no key, said the same everywhere: "X is not set (...)", or "X is set but empty (...)" when
 * the environment or ./.env has the name with nothing in it (a CI secret that did not resolve, say).
 */
export function missingKeyText(envName: string, env: NodeJS.ProcessEnv, cwd: string): string {
  const named = env[envName] !== undefined || readDotEnv(cwd)[envName] !== undefined;
  return `${envName} is ${named ? 'set but empty' : 'not set'} (looked in the environment and ./.env)`;
}

/** The key, trimmed (a stray newline would make an invalid header); undefined when set nowhere or empty. */
export function readApiKey(envName: string, env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  return nonEmpty(env[envName]) ?? nonEmpty(readDotEnv(cwd)[envName]);
}
