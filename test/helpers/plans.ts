// Builds plans in tests from YAML text, through the real loader, so tests exercise what users write.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadPlan } from '../../src/plan/load.js';
import type { Plan } from '../../src/plan/plan.js';

export function tempDir(prefix = 'bluegreen-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function writePlan(yaml: string, dir = tempDir()): string {
  const file = path.join(dir, 'plan.yaml');
  writeFileSync(file, yaml);
  return file;
}

export function planFromYaml(yaml: string, dir = tempDir()): Plan {
  return loadPlan(writePlan(yaml, dir), dir);
}
