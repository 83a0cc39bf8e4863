// `bluegreen status`: where a rollout stands, read from the state folder alone.
import { FINAL_PHASES, type RolloutEvent, type RolloutSnapshot } from '../../engine/types.js';
import { weightUnconfirmed } from '../../engine/endings.js';
import type { ArmStats } from '../../metrics/types.js';
import { fitted, renderStatus, type OwnerInfo } from '../../report/status-text.js';
import { wholeSampleText } from '../../report/whole-sample.js';
import { liveLines, proxyRouteLine } from '../../report/live-text.js';
import { readLiveFile, readProxyRoute, type LiveFile } from '../../live/live-file.js';
import { readProxyInfo } from '../../proxy/discovery.js';
import { proxiesBackByLease, proxiesBackByLeaseNow } from '../../live/lease-back.js';
import { formatEventLine, formatMonitorLine } from '../../report/line.js';
import { isProcessAlive } from '../../core/proc-stat.js';
import {
  orphanMessage,
  readHookInFlight,
  readRecoveryHook,
  rolloutStanding,
  stateDir,
  stateDirFlag,
  StateStore,
  unrecordedRollout,
  lostRecord,
  lostRecordAdvice,
  lostRecordText,
  type LostRecord,
  unrecordedAdvice,
  unrecordedText,
  type UnrecordedRollout,
} from '../../state/index.js';
import { withJournalEnding, withJournalProgress } from '../../state/reconcile.js';
import { terminalColumns, type CliContext } from '../context.js';
import { importStatusWatch } from '../production-ui.js';
import { OutputError, writeOut } from '../status-output.js';
import { CliError, EXIT } from '../../core/exit.js';
import { escapeControls } from '../../core/format.js';
import { parseIntegerOption, WATCH_INTERVAL_MS } from '../options.js';
import type { StatusFlags } from '../definitions/status.js';
import { readProcStat } from '../../core/proc-stat.js';
import { wantsDashboard } from '../reporters.js';
import { newEvents } from '../new-events.js';
import { sleep, steadyNow, systemClock, type Clock } from '../../core/clock.js';

/** Runs `bluegreen status` (its command line: definitions/status.ts); sets ctx.exitCode. */
export async function status(flags: StatusFlags, ctx: CliContext): Promise<void> {
  // Without --watch the state is read once: an interval would be ignored, in silence.
  if (flags.interval !== undefined && !flags.watch) {
    throw new CliError('--interval sets how often --watch rereads the state; add --watch (status without it reads once)', EXIT.usage);
  }
  const store = new StateStore(stateDir(flags.stateDir, ctx.env, ctx.cwd));
  try {
    ctx.exitCode = flags.watch ? await watch(store, ctx, flags) : await statusOnce(store, ctx, flags);
  } catch (error) {
    if (!(error instanceof OutputError)) throw error;
    ctx.stderr.write(unwritten(error, flags.watch === true));
    ctx.exitCode = EXIT.usage;
  }
}

/** Prints where the rollout stands once; resolves to the exit code (5 when its process died unfinished). */
async function statusOnce(store: StateStore, ctx: CliContext, flags: StatusFlags): Promise<number> {
  const unsaved = store.readState() === undefined;
  const unrecorded = unsaved ? unrecordedRollout(store) : undefined;
  if (unrecorded) return statusUnrecorded(unrecorded, ctx, flags);
  const lost = unsaved ? lostRecord(store) : undefined;
  if (lost) return statusLost(lost, store.dir, ctx, flags);
  const { snapshot, owner } = read(store);
  const standing = rolloutStanding(store);
  const orphaned = standing.kind === 'orphaned';
  const live = liveOf(store.dir, snapshot);
  const proxyRoute = live ? readProxyRoute(store.dir) : undefined;
  // The proxy's route file read above, when it says the dead run's proxies are on blue by their lease: said so,
  // in the owner line and the message on stderr alike.
  const proxiesOnBlue = orphaned && proxiesBackByLease(store.dir, standing.snapshot, proxyRoute);
  let text: string;
  if (flags.json)
    text = `${JSON.stringify({ ...snapshot, ...unconfirmedWeight(snapshot), ownerAlive: owner.alive, ownerStopped: owner.stopped === true, orphaned, ...(owner.hook && { hook: owner.hook }), ...(live && { live }), ...(proxyRoute && { proxyRoute }) }, null, 2)}\n`;
  else {
    // Ages of the times of day recorded (a stage's start, a lease's end): on the wall clock.
    const now = (ctx.clock ?? systemClock).now();
    // A rollout that ended or died reads its proxies no more: their lines are its last reading's, said with its age.
    const stopped = snapshot.endedAt !== undefined || !owner.alive;
    const lines = live ? [...liveLines(live, snapshot.stages, now, stopped), ...(proxyRoute ? [proxyRouteLine(proxyRoute, now)] : [])] : [];
    // In a terminal, long lines break between words (a terminal's own wrapping cuts them mid-word); piped, whole.
    const columns = terminalColumns(ctx.stdout);
    const wholeSample = wholeSampleText(snapshot.reason, snapshot.recentEvents, () => store.readEvents());
    text =
      renderStatus(snapshot, { ...owner, proxiesOnBlue }, now, { columns, live: live !== undefined, ...(wholeSample !== undefined && { wholeSample }) }) +
      (lines.length ? `\n${lines.map((line) => fitted(`  ${escapeControls(line)}`, columns)).join('\n')}\n` : '');
  }
  await writeUnlessDead(ctx, text, orphaned);
  if (!orphaned) return 0;
  ctx.stderr.write(`bluegreen: ${orphanMessage(standing.snapshot, store.dir, { proxiesOnBlue })}\n`);
  return EXIT.orphaned;
}

/**
 * A rollout killed between its journal's first line and its first state.json: where it stands, from the journal.
 * Exit 5 when its process died unfinished (DESIGN's contract; `bluegreen rollback` then marks it, moving nothing).
 */
async function statusUnrecorded(rollout: UnrecordedRollout, ctx: CliContext, flags: StatusFlags): Promise<number> {
  const orphaned = !rollout.starting && rollout.finished === undefined;
  const text = unrecordedText(rollout);
  await writeUnlessDead(ctx, flags.json ? `${JSON.stringify({ unrecorded: true, ...rollout, orphaned, message: text }, null, 2)}\n` : `${text}\n`, orphaned);
  if (!orphaned) return 0;
  ctx.stderr.write(`bluegreen: ${unrecordedAdvice(rollout)}\n`);
  return EXIT.orphaned;
}

/** A rollout that moved traffic and lost its state.json: exit 5 (traffic may be on green) unless it still runs. */
async function statusLost(lost: LostRecord, dir: string, ctx: CliContext, flags: StatusFlags): Promise<number> {
  const text = lostRecordText(lost, dir);
  const { events, ...said } = lost;
  await writeUnlessDead(
    ctx,
    flags.json ? `${JSON.stringify({ lostRecord: true, ...said, orphaned: !lost.running, lastEvent: events.at(-1), message: text }, null, 2)}\n` : `${text}\n`,
    !lost.running,
  );
  if (lost.running) return 0;
  ctx.stderr.write(`bluegreen: ${lostRecordAdvice(lost, dir)}\n`);
  return EXIT.orphaned;
}

/**
 * Writes what status says; when stdout cannot take it and the rollout died (exit 5 follows), says so on stderr and
 * goes on: a script that runs `bluegreen rollback` on 5 must not read 2 because its stdout was unwritable.
 */
async function writeUnlessDead(ctx: CliContext, text: string, dead: boolean): Promise<void> {
  try {
    await writeOut(ctx.stdout, text);
  } catch (error) {
    if (!(error instanceof OutputError) || !dead) throw error;
    ctx.stderr.write(unwritten(error, false));
  }
}

/** The sentence on stderr when stdout could not be written. */
function unwritten(error: OutputError, watching: boolean): string {
  return `bluegreen: status${watching ? ' --watch' : ''} could not be written to stdout (${error.why})${watching ? ': stopped watching' : ''}\n`;
}

/** The journal lines status reads for a rollout not ended: as many as rolloutStanding's and more. */
const JOURNAL_TAIL_LINES = 256;

function read(store: StateStore): { snapshot: RolloutSnapshot; owner: OwnerInfo } {
  const saved = store.readState();
  if (!saved) throw new CliError(`no rollout state in ${store.dir} (start one with: bluegreen rollout PLAN)${runningProxy(store.dir)}`, EXIT.usage);
  // When state.json is older than the journal (a full disk, a crash between the two), the journal wins: its final
  // event, or the lines since state.json's last write (a kill -9 at a stage's start: the stage it started).
  // Its last lines only: state.json trails the journal by a write or so, and a long journal read whole cost seconds.
  const events = saved.endedAt === undefined ? store.readEvents({ last: JOURNAL_TAIL_LINES }) : [];
  const snapshot = withoutSavedHistograms(withJournalProgress(withJournalEnding(saved, events).snapshot, events));
  const alive = snapshot.endedAt === undefined && isProcessAlive(snapshot);
  const hook = snapshot.endedAt === undefined ? readHookInFlight(store.dir, snapshot) : undefined;
  // A recovery's own rollback hook is not the rollout's (another pid): said apart, killed or under way.
  const recovery = snapshot.endedAt === undefined ? readRecoveryHook(store.dir, snapshot) : undefined;
  return {
    snapshot,
    owner: {
      pid: snapshot.pid,
      alive,
      stopped: alive && isPidStopped(snapshot.pid),
      ...(hook && { hook }),
      ...(recovery && { recovery: { ...recovery, alive: isProcessAlive(recovery) } }),
    },
  };
}

/**
 * The snapshot without the histograms state.json keeps for rollout --resume (ArmStats.histograms): base64 for
 * bluegreen alone, several KB per stage, and no figure for a script reading --json (the percentiles are there).
 */
function withoutSavedHistograms(snapshot: RolloutSnapshot): RolloutSnapshot {
  const stages = snapshot.stages.map((stage) => {
    const { blue, green } = stage.arms;
    if (blue.histograms === undefined && green.histograms === undefined) return stage;
    const arm = ({ histograms: _saved, ...figures }: ArmStats): ArmStats => figures;
    return { ...stage, arms: { blue: arm(blue), green: arm(green) } };
  });
  return { ...snapshot, stages };
}

/** `greenWeightUnconfirmed: true` beside greenWeight when that is only what a failed ending meant to set (weightUnconfirmed). */
function unconfirmedWeight(snapshot: RolloutSnapshot): { greenWeightUnconfirmed?: true } {
  return weightUnconfirmed(snapshot) ? { greenWeightUnconfirmed: true } : {};
}

/** A proxy serving from the folder before any rollout: said, so the operator knows the folder is the right one. */
function runningProxy(dir: string): string {
  const info = readProxyInfo(dir);
  if (!info || !isProcessAlive(info)) return '';
  return `; a proxy is running on this folder: ${info.url} (pid ${info.pid}, since ${new Date(info.startedAt).toISOString()}), its route at ${info.url}/healthz`;
}

/** Whether the process is stopped (state T in /proc: SIGSTOP, Ctrl-Z); false where /proc cannot tell. */
function isPidStopped(pid: number): boolean {
  return readProcStat(pid)?.state === 'T';
}

/**
 * `--watch`'s sentence on a rollout whose process died, as plain `status` says it: with the proxies back on blue by
 * their lease when the folder's proxy's route file says so (lease-back.ts), else the cautious words.
 */
function orphanAdvice(dir: string, snapshot: RolloutSnapshot): string {
  const proxiesOnBlue = proxiesBackByLeaseNow(dir, snapshot);
  return `bluegreen: ${orphanMessage(snapshot, dir, { proxiesOnBlue })}\n`;
}

/** The live rollout's view of its proxies, when live.json belongs to this rollout. */
function liveOf(dir: string, snapshot: RolloutSnapshot): LiveFile | undefined {
  const live = readLiveFile(dir);
  return live && live.updatedAt >= snapshot.startedAt ? live : undefined;
}

/** --interval in ms, within WATCH_INTERVAL_MS. */
function watchInterval(text: string | undefined): number {
  if (text === undefined) return WATCH_INTERVAL_MS.default;
  return parseIntegerOption(text, '--interval (milliseconds)', WATCH_INTERVAL_MS.min, WATCH_INTERVAL_MS.max);
}

/**
 * --watch opened before the rollout starts (in another terminal, as an operator would): waits for its state, saying
 * so once, rather than exiting 2 as `status` alone does. A folder with an old rollout's state shows that one.
 */
async function untilStateExists(store: StateStore, ctx: CliContext, clock: Clock, interval: number): Promise<void> {
  if (store.readState()) return;
  ctx.stderr.write(`bluegreen: no rollout state in ${store.dir} yet: waiting for a rollout to start there (Ctrl-C to stop)\n`);
  do await sleep(clock, interval);
  while (!store.readState());
}

function isFinished(snapshot: RolloutSnapshot): boolean {
  return snapshot.endedAt !== undefined && FINAL_PHASES.includes(snapshot.phase);
}

/**
 * --watch's exit code once the rollout finished: the rollout's own, as a CI step waiting on it gates on. A dead run's
 * end that a recovery recorded keeps that run's 5 (its process died; green never passed, so never 0 as plain
 * `status` exits, which reports on itself), said on stderr so it is not read as "run bluegreen rollback".
 */
function finishedCode(snapshot: RolloutSnapshot, ctx: CliContext, endedBefore?: { dir: string; startedAt: number }): number {
  const code = snapshot.exitCode ?? EXIT.internal;
  // A watcher opened just before a new rollout on a folder holding a finished run reads that run: said as that run's.
  if (endedBefore?.startedAt === snapshot.startedAt)
    ctx.stderr.write(
      `bluegreen: rollout ${snapshot.plan.name} in ${endedBefore.dir} had already ended (${snapshot.phase.replace('_', ' ')}) when --watch started: exit ${code} is that run's, not a rollout's started since (--watch waits for a rollout only in a folder with no state yet)\n`,
    );
  if (snapshot.recoveredBy !== undefined)
    ctx.stderr.write(
      `bluegreen: exit ${code} is the rollout's own: its process died, and ${snapshot.recoveredBy} recorded its end (${snapshot.phase.replace('_', ' ')}); nothing is left to recover\n`,
    );
  return code;
}

/** A monitor line at most this often (steady ms) while following a rollout in lines. */
const MONITOR_EVERY_MS = 5000;

async function watch(store: StateStore, ctx: CliContext, flags: StatusFlags): Promise<number> {
  const interval = watchInterval(flags.interval);
  const clock = ctx.clock ?? systemClock;
  // A rollout that will never write state.json again (died before its first record, or lost it after moving
  // traffic) is said as status says it, not waited for.
  const found = store.readState();
  if (!found) {
    const unrecorded = unrecordedRollout(store);
    const lost = unrecorded ? undefined : lostRecord(store);
    if ((unrecorded && !unrecorded.starting) || (lost && !lost.running)) return statusOnce(store, ctx, flags);
  }
  await untilStateExists(store, ctx, clock, interval);
  // The run the folder held had ended: unless a new rollout replaces it first, --watch reports that run's end.
  const endedBefore = found && isFinished(found) ? { dir: store.dir, startedAt: found.startedAt } : undefined;
  // The rollout's rule (a terminal that can move its cursor, not CI): TERM=dumb gets lines, as `rollout` does.
  if (!flags.json && wantsDashboard(ctx, {})) {
    // In a terminal: the rollout's dashboard, read-only; q stops watching (exit 0), ctrl-c too (exit 130).
    const { watchDashboard } = await importStatusWatch(ctx.env);
    const end = await watchDashboard({
      streams: ctx,
      env: ctx.env,
      stateDir: store.dir,
      stateDirFlag: stateDirFlag(store.dir, ctx.cwd),
      intervalMs: interval,
      clock,
      read: () => read(store),
      isFinished,
    });
    if (end.kind === 'finished') return finishedCode(end.snapshot, ctx, endedBefore);
    if (end.kind === 'quit') return end.interrupted ? EXIT.sigint : 0;
    ctx.stderr.write(orphanAdvice(store.dir, end.snapshot));
    return EXIT.orphaned;
  }
  let seenEvents: readonly RolloutEvent[] = [];
  // The monitor line's cadence is steady: on the wall clock a step back silenced it for the hour, a step forward
  // printed one at the next read. Its timestamp stays the wall clock's (a time of day).
  let lastMonitor = Number.NEGATIVE_INFINITY;
  for (;;) {
    const { snapshot, owner } = read(store);
    const now = clock.now();
    const steady = steadyNow(clock);
    try {
      if (flags.json) {
        await writeOut(
          ctx.stdout,
          `${JSON.stringify({ ...snapshot, ...unconfirmedWeight(snapshot), ownerAlive: owner.alive, ...(owner.hook && { hook: owner.hook }) })}\n`,
        );
      } else {
        // A hand-edited journal's escape sequences are shown, not acted on (as status without --watch shows them).
        const lines = newEvents(seenEvents, snapshot.recentEvents).map((event) => escapeControls(formatEventLine(event)));
        seenEvents = snapshot.recentEvents;
        if (steady - lastMonitor >= MONITOR_EVERY_MS && !isFinished(snapshot)) {
          lines.push(formatMonitorLine(snapshot, now));
          lastMonitor = steady;
        }
        if (lines.length > 0) await writeOut(ctx.stdout, `${lines.join('\n')}\n`);
      }
    } catch (error) {
      // A dead rollout is still said, and still exit 5, as status without --watch does.
      if (!(error instanceof OutputError)) throw error;
      const dead = !owner.alive && !isFinished(snapshot) ? rolloutStanding(store) : undefined;
      if (dead?.kind !== 'orphaned') throw error;
      ctx.stderr.write(unwritten(error, true));
      ctx.stderr.write(orphanAdvice(store.dir, dead.snapshot));
      return EXIT.orphaned;
    }
    if (isFinished(snapshot)) return finishedCode(snapshot, ctx, endedBefore);
    const standing = owner.alive ? undefined : rolloutStanding(store);
    // Died right after journaling its end, before state.json caught up: the journal has the code.
    if (standing?.kind === 'finished') return Number(store.readEvents({ last: 1 })[0]?.data?.exitCode ?? EXIT.internal);
    if (standing?.kind === 'orphaned') {
      ctx.stderr.write(orphanAdvice(store.dir, standing.snapshot));
      return EXIT.orphaned;
    }
    await sleep(clock, interval);
  }
}
