// What state.json keeps of a live rollout run so that `rollout --resume` judges what the dead run left: results a
// proxy stopped while that run drove it handed over (src/proxy/handover.ts) are served by its replacement tagged
// with the dead run's controller id, which a new run does not know. run-rollout.ts writes this record beside the
// engine's snapshot at every state write (a write takes both at one moment of the event loop, so `read` says
// exactly which results the saved figures hold) and gives it back to the resumed run. A new rollout on the same
// folder never reads it: another rollout's results stay unjudged.

/** Runs of one rollout remembered: each resume adds one, and a handover older than a few runs is long deleted. */
const MAX_CONTROLLERS = 16;
/** Feeds remembered: a fleet's proxies, a few restarts back each (FeedsRead keeps that many). */
const MAX_FEEDS = 1000;
const MAX_ID = 100;
/** Proxies remembered, and the longest admin URL taken from a hand-edited record. */
const MAX_PROXIES = 1000;
const MAX_URL = 2000;

export interface LiveResume {
  /** This rollout's runs, by the controller id each sent with its routes, oldest first (the current run last). */
  controllers: string[];
  /** Per results feed (a proxy process's epoch): the last result recorded into the figures saved beside it. */
  read: Record<string, number>;
  /** The admin URLs this run drives: its recovery tells them blue even if the plan's admin_urls were edited since. */
  proxies?: string[];
}

/** The record kept for the next resume: the dead runs' controllers and this one's, what was read, the proxies driven. */
export function liveResumeRecord(earlier: readonly string[], controller: string, read: Record<string, number>, proxies: readonly string[]): LiveResume {
  return { controllers: [...earlier, controller].slice(-MAX_CONTROLLERS), read, proxies: [...proxies] };
}

/** The record in a state.json (a loose object: an older one has none, a hand-edited one may be anything). */
export function liveResumeOf(snapshot: unknown): LiveResume | undefined {
  const record = (snapshot as { liveResume?: unknown } | undefined)?.liveResume;
  if (typeof record !== 'object' || record === null) return undefined;
  const { controllers, read, proxies } = record as Record<string, unknown>;
  if (!Array.isArray(controllers) || typeof read !== 'object' || read === null || Array.isArray(read)) return undefined;
  const ids = controllers.filter((id): id is string => typeof id === 'string' && id !== '' && id.length <= MAX_ID).slice(-MAX_CONTROLLERS);
  const positions = Object.entries(read as Record<string, unknown>)
    .filter((entry): entry is [string, number] => entry[0].length <= MAX_ID && Number.isSafeInteger(entry[1]) && (entry[1] as number) >= 0)
    .slice(-MAX_FEEDS);
  const urls = Array.isArray(proxies)
    ? proxies.filter((url): url is string => typeof url === 'string' && /^https?:\/\//.test(url) && url.length <= MAX_URL).slice(0, MAX_PROXIES)
    : undefined;
  return { controllers: ids, read: Object.fromEntries(positions), ...(urls !== undefined && { proxies: urls }) };
}
