// Replays recorded request bodies from a JSONL file, read as a stream so a file of gigabytes never sits in
// memory. A bounded buffer is filled in the background (the scheduler needs a request synchronously), and
// reading pauses while it is full. At the end of the file it starts again from the top.
import { createReadStream, type ReadStream } from 'node:fs';
import type { ChatRequest } from '../upstream/types.js';
import type { RandomSource } from '../core/random.js';
import { TrafficError, describeError } from './errors.js';
import { parseSampledLine, type ParsedLine } from './sampled-line.js';
import { jsonlLines, MAX_LINE_BYTES, tooLongProblem, type JsonlLine } from './jsonl-lines.js';
import { ReplayBuffer } from './replay-buffer.js';
import { SourceWaiters } from './source-waiters.js';
import { CachedReplay } from './cached-replay.js';

export interface SampledOptions {
  /** Absolute path of the JSONL file. */
  file: string;
  /** Keep each line with this probability (0..1]. */
  sampleRate: number;
  /** max_tokens for lines that carry none. */
  maxTokens: number;
  random: RandomSource;
  /** Requests held ready; reading pauses when full and resumes at half. Default 512. */
  capacity?: number;
  /** Why a parsed request cannot be replayed (say, on an Anthropic arm), or undefined when it can. */
  vet?: (request: ChatRequest) => string | undefined;
  /** Longer lines are skipped (and never held whole in memory). Default MAX_LINE_BYTES. */
  maxLineBytes?: number;
}

export interface SampledSource {
  /**
   * Resolves when the buffer is full, or a whole pass is buffered (a small file); rejects if the file is
   * missing, empty or has no usable line.
   */
  ready(): Promise<void>;
  /**
   * Resolves as soon as at least one request is buffered (for consumers that can wait); rejects once reading has
   * failed or the source is closed, since next() then serves nothing.
   */
  available(): Promise<void>;
  /** A buffered request, or undefined when the buffer is momentarily empty (or the source has failed). */
  next(): ChatRequest | undefined;
  buffered(): number;
  /** Lines that were not a usable request, counted during the first pass over the file. */
  skipped(): number;
  /** The first such line and why, e.g. "line 12: not JSON (...)". */
  firstProblem(): string | undefined;
  /** Completed passes over the file. */
  passes(): number;
  /** Set when reading failed after ready (the file vanished, say); next() then stays empty. */
  error(): Error | undefined;
  close(): Promise<void>;
}

/** One source's state, shared by its reader (pump) and its consumer (next). */
interface SampledRun {
  readonly options: SampledOptions;
  readonly maxLineBytes: number;
  readonly buffer: ReplayBuffer;
  readonly waiters: SourceWaiters;
  readonly scan: FirstPassScan;
  closed: boolean;
  failure: Error | undefined;
  completedPasses: number;
  /** Set once a small file's first pass is in: next() draws from it, and the file is never read again. */
  cached: CachedReplay | undefined;
  reader: ReadStream | undefined;
}

/** What the first pass learns about the file. */
interface FirstPassScan {
  /** A usable line was seen: from then on, sampling happens before parsing. */
  validSeen: boolean;
  skippedLines: number;
  problem: string | undefined;
  /** The first pass's usable requests while they fit in one buffer (a small file is replayed from them). */
  kept: ChatRequest[] | undefined;
}

interface PassCounts {
  lines: number;
  nonBlank: number;
}

export function createSampledSource(options: SampledOptions): SampledSource {
  const run: SampledRun = {
    options,
    maxLineBytes: options.maxLineBytes ?? MAX_LINE_BYTES,
    buffer: new ReplayBuffer(Math.max(1, options.capacity ?? 512)),
    waiters: new SourceWaiters(),
    scan: { validSeen: false, skippedLines: 0, problem: undefined, kept: [] },
    closed: false,
    failure: undefined,
    completedPasses: 0,
    cached: undefined,
    reader: undefined,
  };
  const pumpDone = pump(run).catch((error: unknown) => fail(run, error instanceof Error ? error : new Error(String(error))));
  return {
    ready: () => run.waiters.ready,
    available: () => available(run),
    next: () => next(run),
    buffered: () => run.buffer.size(),
    skipped: () => run.scan.skippedLines,
    firstProblem: () => run.scan.problem,
    passes: () => run.completedPasses,
    error: () => run.failure,
    close: () => close(run, pumpDone),
  };
}

// Once the file is known to hold a valid line, sampling happens before parsing: at a low sample_rate most
// lines are never parsed. Until then every line is parsed, so "no usable line" is a certainty, not luck.
const dropLine = ({ sampleRate, random }: SampledOptions): boolean => sampleRate < 1 && random() >= sampleRate;

/** Reads the file pass after pass into the buffer until closed; throws a TrafficError for a file it cannot replay. */
async function pump(run: SampledRun): Promise<void> {
  const { file } = run.options;
  for (let pass = 0; !run.closed; pass++) {
    let counts: PassCounts;
    try {
      counts = await readPass(run, pass === 0);
    } catch (error) {
      throw new TrafficError(`cannot read sampled traffic file ${file}: ${describeError(error)}`, file);
    }
    if (run.closed) return;
    run.completedPasses++;
    if (pass === 0 && replayFromMemory(run)) return;
    run.scan.kept = undefined;
    // Ready once the buffer is full (or a whole pass is in), so the first seconds are not mostly fallbacks.
    if (run.buffer.size() > 0) run.waiters.resolveReady();
    const problem = passProblem(file, pass === 0, counts, run.scan);
    if (problem) throw problem;
  }
}

/** A small file (its usable lines all kept by the first pass) is replayed from memory from now on. */
function replayFromMemory(run: SampledRun): boolean {
  const lines = run.scan.kept;
  if (lines === undefined || lines.length === 0) return false;
  run.cached = new CachedReplay(
    lines,
    () => dropLine(run.options),
    () => run.completedPasses++,
  );
  run.waiters.resolveReady();
  run.waiters.wake();
  return true;
}

/** Why a pass just read shows the file cannot be replayed, or undefined. */
function passProblem(file: string, first: boolean, counts: PassCounts, scan: FirstPassScan): TrafficError | undefined {
  if (first && counts.nonBlank === 0) return new TrafficError(`sampled traffic file ${file} is empty`, file);
  if (first && !scan.validSeen) {
    return new TrafficError(
      `sampled traffic file ${file} has no usable request: ${scan.skippedLines} line(s) skipped, the first at ${scan.problem ?? '?'} ` +
        '(expected one JSON chat-completion request body a line, with a "messages" list)',
      file,
    );
  }
  if (counts.lines === 0) return new TrafficError(`sampled traffic file ${file} became empty while replaying`, file);
  return undefined;
}

/** One pass over the file, pushing the requests sample_rate keeps and pausing while the buffer is full. */
async function readPass(run: SampledRun, first: boolean): Promise<PassCounts> {
  const input = createReadStream(run.options.file);
  // A stream destroyed while still opening may fail after the loop below let go of it: that must not
  // become an uncaught exception.
  input.on('error', () => undefined);
  run.reader = input;
  const counts: PassCounts = { lines: 0, nonBlank: 0 };
  try {
    for await (const line of jsonlLines(input, run.maxLineBytes)) {
      if (run.closed) break;
      counts.lines++;
      const request = lineRequest(run, line, counts, first);
      if (request === undefined) continue;
      run.buffer.push(request);
      if (run.buffer.full()) run.waiters.resolveReady();
      run.waiters.wake();
      if (run.buffer.full()) await run.buffer.room();
    }
  } finally {
    input.destroy();
    run.reader = undefined;
  }
  return counts;
}

/**
 * The request a line gives the buffer, or undefined: dropped by sample_rate, blank, or unusable (counted on the
 * first pass). The order of the random draws is part of a seeded run's reproducibility.
 */
function lineRequest(run: SampledRun, line: JsonlLine, counts: PassCounts, first: boolean): ChatRequest | undefined {
  const { scan } = run;
  const sampledFirst = scan.validSeen;
  // While the first pass may still be a small file's whole, every line is parsed and kept for the cache.
  const collecting = first && scan.kept !== undefined;
  if (sampledFirst && !collecting && dropLine(run.options)) return undefined;
  const parsed = parseLine(run, line, counts.lines);
  if (parsed === undefined) return undefined;
  counts.nonBlank++;
  if ('problem' in parsed) {
    if (first) {
      scan.skippedLines++;
      scan.problem ??= `line ${counts.lines}: ${parsed.problem}`;
    }
    return undefined;
  }
  scan.validSeen = true;
  if (collecting) keepForCache(scan, parsed.request, run.buffer.capacity);
  if ((!sampledFirst || collecting) && dropLine(run.options)) return undefined;
  // The kept request is replayed from memory: the buffer gets a copy of its own.
  return collecting ? structuredClone(parsed.request) : parsed.request;
}

function parseLine(run: SampledRun, line: JsonlLine, lineNo: number): ParsedLine {
  if ('tooLong' in line) return { problem: tooLongProblem(run.maxLineBytes) };
  const text = lineNo === 1 ? line.text.replace(/^\uFEFF/, '') : line.text;
  return parseSampledLine(text, run.options.maxTokens, run.options.vet);
}

/** Keeps a first-pass request for the cache, or gives the cache up once the file outgrows one buffer. */
function keepForCache(scan: FirstPassScan, request: ChatRequest, capacity: number): void {
  if (scan.kept === undefined) return;
  if (scan.kept.length < capacity) scan.kept.push(request);
  else scan.kept = undefined;
}

function next(run: SampledRun): ChatRequest | undefined {
  // Once reading failed the mix says it sends synthetic requests instead: so it does, buffered lines or not.
  if (run.failure) return undefined;
  if (run.buffer.size() === 0) return run.cached?.next();
  return run.buffer.shift();
}

function available(run: SampledRun): Promise<void> {
  // Failed or closed first: next() serves nothing then, requests still buffered or not.
  if (run.failure) return Promise.reject(run.failure);
  if (run.closed) return Promise.reject(closedError(run));
  if (run.buffer.size() > 0 || run.cached) return Promise.resolve();
  return run.waiters.wait();
}

function fail(run: SampledRun, error: Error): void {
  if (run.closed) return;
  run.failure = error;
  run.waiters.rejectAll(error);
}

async function close(run: SampledRun, pumpDone: Promise<void>): Promise<void> {
  if (run.closed) return pumpDone;
  run.waiters.rejectAll(closedError(run));
  run.closed = true;
  run.reader?.destroy();
  run.buffer.clear();
  run.cached = undefined;
  run.scan.kept = undefined;
  await pumpDone;
}

const closedError = (run: SampledRun) => new Error(`sampled traffic source for ${run.options.file} is closed`);
