// STATE_DIR/live.json: what the live rollout last knew of its proxies and the live figures per stage, for
// `status` and the dashboard. Written by the rollout (src/live/controller.ts); read here, leniently.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseRoute, ROUTE_FILE, type Route } from '../proxy/route.js';
import type { LiveView } from './fleet.js';
import { LIVE_VIEW_FILE } from '../state/files.js';

export { LIVE_VIEW_FILE } from '../state/files.js';

export interface LiveFile extends LiveView {
  updatedAt: number;
}

/** The route of a proxy keeping its state in this folder (one machine), as the proxy itself last wrote it. */
export function readProxyRoute(stateDir: string): Route | undefined {
  try {
    return parseRoute(JSON.parse(readFileSync(path.join(stateDir, ROUTE_FILE), 'utf8')));
  } catch {
    return undefined;
  }
}

export function readLiveFile(stateDir: string): LiveFile | undefined {
  try {
    const value = JSON.parse(readFileSync(path.join(stateDir, LIVE_VIEW_FILE), 'utf8')) as Partial<LiveFile>;
    if (typeof value.updatedAt !== 'number' || !Array.isArray(value.proxies) || !Array.isArray(value.stages) || typeof value.leaseMs !== 'number')
      return undefined;
    return value as LiveFile;
  } catch {
    return undefined;
  }
}
