// The dashboard's live section, under the checks: each proxy's route, lease and health (red when it does not
// answer, amber when its lease ran out or it lost results), then the live figures of the latest stages, with
// the generated ones beside them when the rollout also sends its own traffic. Same words as `status`.
import type { RolloutSnapshot } from '../../engine/types.js';
import type { LiveView } from '../../live/fleet.js';
import { liveStageRows, liveTableLines, liveTitle, proxyErrorLine, proxyHealth, proxyLine, showsGenerated } from '../live-text.js';
import { clip, type Line } from './view-types.js';
import { hangingWrap } from '../wrap.js';

/** Stages shown in the dashboard's live table (the stage table above has them all); `status` lists every one. */
const LIVE_STAGE_ROWS = 3;

/** `stopped`: the rollout no longer reads its proxies (status --watch on one that ended or died): see proxyLine. */
export function liveSectionLines(view: LiveView & { updatedAt?: number }, snapshot: RolloutSnapshot, now: number, width: number, stopped = false): Line[] {
  const lastRead = stopped ? view.updatedAt : undefined;
  const rows = liveStageRows(view, snapshot.stages);
  const table = rows.length > 0 ? liveTableLines(rows.slice(-LIVE_STAGE_ROWS), showsGenerated(view)) : [];
  return [
    clip([{ text: liveTitle(view, now), tone: 'title' }], width),
    ...view.proxies.flatMap((proxy) => {
      const health = proxyHealth(proxy, now);
      const tone = health === 'ok' ? {} : { tone: health };
      const error = proxyErrorLine(proxy);
      // Broken between words on a narrow terminal, not cut: its lease (or "no lease") is at the end of the line.
      const route = hangingWrap(`  ${proxyLine(proxy, now, lastRead)}`, width, 4).split('\n');
      return [...route, ...(error ? [error] : [])].map((text) => clip([{ text, ...tone }], width));
    }),
    ...table.map((text, index) => clip([{ text, ...(index === 0 && { tone: 'muted' as const }) }], width)),
  ];
}
