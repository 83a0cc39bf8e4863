// Replays recorded request bodies from a JSONL file, read as a stream so a file of gigabytes never sits in
// memory. A bounded buffer is filled in the background (the scheduler needs a request synchronously), and
// reading pauses while it is full. At the end of the file it starts again from the top.
import { createReadStream, type ReadStream } from 'node:fs';
import type { ChatRequest } from '../upstream/types.js';
import type { RandomSource } from '../core/random.js';
import { TrafficError, describeError } from './errors.js';
import { parseSampledLine } from './sampled-line.js';
import { jsonlLines, MAX_LINE_BYTES, tooLongProblem } from './jsonl-lines.js';

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
  /** Resolves as soon as at least one request is buffered (for consumers that can wait). */
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

/** Lines drawn from a cached file for one next() before giving up (a sample_rate of 1e-9 must not hang it). */
const MAX_CACHE_DRAWS = 10_000;

export function createSampledSource(options: SampledOptions): SampledSource {
  const { file, sampleRate, maxTokens, random } = options;
  const capacity = Math.max(1, options.capacity ?? 512);
  const maxLineBytes = options.maxLineBytes ?? MAX_LINE_BYTES;
  const refillAt = Math.floor(capacity / 2);

  // A queue with a moving head: shift() on a large array would copy it on every request.
  let items: (ChatRequest | undefined)[] = [];
  let head = 0;
  const size = () => items.length - head;

  let closed = false;
  let failure: Error | undefined;
  let validSeen = false;
  let skippedLines = 0;
  let problem: string | undefined;
  let completedPasses = 0;
  // A file whose usable lines fit in one buffer is kept in memory after its first pass and replayed from there:
  // re-read in a loop at a low sample_rate (2 lines at 0.001), it took a core in open/read/close calls.
  let firstPass: ChatRequest[] | undefined = [];
  let cached: ChatRequest[] | undefined;
  let cursor = 0;
  let reader: ReadStream | undefined;
  let wakePump: (() => void) | undefined;
  let waiters: { resolve: () => void; reject: (error: Error) => void }[] = [];

  let settleReady: { resolve: () => void; reject: (error: Error) => void } | undefined;
  const readyPromise = new Promise<void>((resolve, reject) => (settleReady = { resolve, reject }));
  readyPromise.catch(() => undefined); // a caller that never awaits ready() must not crash the process

  // Once the file is known to hold a valid line, sampling happens before parsing: at a low sample_rate most
  // lines are never parsed. Until then every line is parsed, so "no usable line" is a certainty, not luck.
  const dropLine = () => sampleRate < 1 && random() >= sampleRate;

  // Ready once the buffer is full (or a whole pass is in), so the first seconds are not mostly fallbacks.
  const resolveReady = () => {
    settleReady?.resolve();
    settleReady = undefined;
  };

  const wakeWaiters = () => {
    const woken = waiters;
    waiters = [];
    for (const waiter of woken) waiter.resolve();
  };

  const push = (request: ChatRequest) => {
    items.push(request);
    if (size() >= capacity) resolveReady();
    wakeWaiters();
  };

  const fail = (error: Error) => {
    if (closed) return;
    failure = error;
    settleReady?.reject(error);
    settleReady = undefined;
    const woken = waiters;
    waiters = [];
    for (const waiter of woken) waiter.reject(error);
  };

  async function readPass(first: boolean): Promise<{ lines: number; nonBlank: number }> {
    const input = createReadStream(file);
    // A stream destroyed while still opening may fail after the loop below let go of it: that must not
    // become an uncaught exception.
    input.on('error', () => undefined);
    reader = input;
    let lineNo = 0;
    let nonBlank = 0;
    try {
      for await (const line of jsonlLines(input, maxLineBytes)) {
        if (closed) break;
        lineNo++;
        const sampledFirst = validSeen;
        // While the first pass may still be a small file's whole, every line is parsed and kept for the cache.
        const collecting = first && firstPass !== undefined;
        if (sampledFirst && !collecting && dropLine()) continue;
        const parsed =
          'tooLong' in line
            ? { problem: tooLongProblem(maxLineBytes) }
            : parseSampledLine(lineNo === 1 ? line.text.replace(/^\uFEFF/, '') : line.text, maxTokens, options.vet);
        if (parsed === undefined) continue;
        nonBlank++;
        if ('problem' in parsed) {
          if (first) {
            skippedLines++;
            problem ??= `line ${lineNo}: ${parsed.problem}`;
          }
          continue;
        }
        validSeen = true;
        if (collecting && firstPass) {
          if (firstPass.length < capacity) firstPass.push(parsed.request);
          else firstPass = undefined;
        }
        if ((!sampledFirst || collecting) && dropLine()) continue;
        push(collecting ? structuredClone(parsed.request) : parsed.request);
        if (size() >= capacity) await new Promise<void>((resolve) => (wakePump = resolve));
      }
    } finally {
      input.destroy();
      reader = undefined;
    }
    return { lines: lineNo, nonBlank };
  }

  async function pump(): Promise<void> {
    for (let pass = 0; !closed; pass++) {
      let counts: { lines: number; nonBlank: number };
      try {
        counts = await readPass(pass === 0);
      } catch (error) {
        throw new TrafficError(`cannot read sampled traffic file ${file}: ${describeError(error)}`, file);
      }
      if (closed) return;
      completedPasses++;
      if (pass === 0 && firstPass !== undefined && firstPass.length > 0) {
        // A small file: replayed from memory from now on (next() draws from it), never read again.
        cached = firstPass;
        resolveReady();
        wakeWaiters();
        return;
      }
      firstPass = undefined;
      if (size() > 0) resolveReady();
      if (pass === 0 && counts.nonBlank === 0) throw new TrafficError(`sampled traffic file ${file} is empty`, file);
      if (pass === 0 && !validSeen) {
        throw new TrafficError(
          `sampled traffic file ${file} has no usable request: ${skippedLines} line(s) skipped, the first at ${problem ?? '?'} ` +
            '(expected one JSON chat-completion request body a line, with a "messages" list)',
          file,
        );
      }
      if (counts.lines === 0) throw new TrafficError(`sampled traffic file ${file} became empty while replaying`, file);
    }
  }

  /** The next cached request kept by sample_rate, or undefined after MAX_CACHE_DRAWS lines all dropped. */
  const fromCache = (lines: readonly ChatRequest[]): ChatRequest | undefined => {
    for (let draws = 0; draws < MAX_CACHE_DRAWS; draws++) {
      const request = lines[cursor] as ChatRequest;
      cursor = (cursor + 1) % lines.length;
      if (cursor === 0) completedPasses++;
      // A copy: a request is the caller's to adapt, and the cache serves the same line again.
      if (!dropLine()) return structuredClone(request);
    }
    return undefined;
  };

  const pumpDone = pump().catch((error: unknown) => fail(error instanceof Error ? error : new Error(String(error))));

  return {
    ready: () => readyPromise,
    available() {
      if (size() > 0 || cached) return Promise.resolve();
      if (failure) return Promise.reject(failure);
      if (closed) return Promise.reject(new Error(`sampled traffic source for ${file} is closed`));
      return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
    },
    next() {
      // Once reading failed the mix says it sends synthetic requests instead: so it does, buffered lines or not.
      if (failure) return undefined;
      if (head >= items.length) return cached ? fromCache(cached) : undefined;
      const request = items[head];
      items[head++] = undefined;
      if (head >= capacity) {
        items = items.slice(head);
        head = 0;
      }
      if (wakePump && size() <= refillAt) {
        const wake = wakePump;
        wakePump = undefined;
        wake();
      }
      return request;
    },
    buffered: size,
    skipped: () => skippedLines,
    firstProblem: () => problem,
    passes: () => completedPasses,
    error: () => failure,
    async close() {
      if (closed) return pumpDone;
      const closedError = new Error(`sampled traffic source for ${file} is closed`);
      settleReady?.reject(closedError);
      settleReady = undefined;
      for (const waiter of waiters) waiter.reject(closedError);
      waiters = [];
      closed = true;
      reader?.destroy();
      wakePump?.();
      wakePump = undefined;
      items = [];
      head = 0;
      cached = undefined;
      firstPass = undefined;
      await pumpDone;
    },
  };
}
