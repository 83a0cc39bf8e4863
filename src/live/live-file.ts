// STATE_DIR/live.json: what the live rollout last knew of its proxies and the live figures per stage, for
// `status` and the dashboard. Written by the rollout (src/live/controller.ts); read here, leniently.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { LiveView } from './fleet.js';

export const LIVE_VIEW_FILE = 'live.json';

export interface LiveFile extends LiveView {
  updatedAt: number;
}

export function readLiveFile(stateDir: string): LiveFile | undefined {
  try {
    const value = JSON.parse(readFileSync(path.join(stateDir, LIVE_VIEW_FILE), 'utf8')) as Partial<LiveFile>;
    if (typeof value.updatedAt !== 'number' || !Array.isArray(value.proxies) || !Array.isArray(value.stages) || typeof value.leaseMs !== 'number') return undefined;
    return value as LiveFile;
  } catch {
    return undefined;
  }
}
