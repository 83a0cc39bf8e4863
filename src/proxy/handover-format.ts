// What a stopping proxy's handover file holds (handover.ts reads it, handover-writer.ts writes it). Since session 14
// it is STATE_DIR/proxy-handover/EPOCH.jsonl, append-only: a header line, then one line per result handed over as
// the drain goes on, and a final line once every request has ended. A proxy of the version before rewrote
// EPOCH.json whole each time; a replacement still reads that (mixed versions during an upgrade).
import { isObject, parseObject } from '../core/json.js';
import type { ProcessIdentity } from '../core/proc-stat.js';
import type { HandedEntry } from './results-feed.js';

export const HANDOVER_DIR = 'proxy-handover';
/** The format of the .jsonl file's header; a reader leaves alone a file of a version it does not know. */
const HANDOVER_VERSION = 1;
/** One file per stopped proxy process, named by its feed's epoch (a UUID); temp files (leading dot) do not match. */
export const LINES_FILE = /^[0-9a-f-]{36}\.jsonl$/;
/** The whole-file format of the proxy version before (session 12-13). */
export const LEGACY_FILE = /^[0-9a-f-]{36}\.json$/;

export const linesFileName = (epoch: string): string => `${epoch}.jsonl`;

/**
 * The first line: whose file it is, the writer's process among it (its pid, with its start time and boot since
 * session 23). Whether it is done says the last line (a writer killed mid-drain has none).
 */
export interface HandoverHeader extends ProcessIdentity {
  handover: typeof HANDOVER_VERSION;
  /** The feed of the proxy that wrote it. */
  epoch: string;
}

/** The last line: every request has ended. `dropped`: results past the file's cap, not handed over. */
export interface HandoverEnd {
  final: true;
  results: number;
  dropped: number;
}

export const headerLine = (epoch: string, writer: ProcessIdentity): string => {
  const { pid, pidStart, bootId } = writer;
  return `${JSON.stringify({ handover: HANDOVER_VERSION, epoch, pid, pidStart, bootId } satisfies HandoverHeader)}\n`;
};

export const endLine = (results: number, dropped: number): string => `${JSON.stringify({ final: true, results, dropped } satisfies HandoverEnd)}\n`;

/** The header, or undefined when the line is not one this proxy can read (another format, a newer version). */
export function parseHeader(line: string): HandoverHeader | undefined {
  const v = parseObject(line);
  if (v?.handover !== HANDOVER_VERSION || typeof v.epoch !== 'string' || typeof v.pid !== 'number') return undefined;
  return {
    handover: HANDOVER_VERSION,
    epoch: v.epoch,
    pid: v.pid,
    ...(typeof v.pidStart === 'string' && { pidStart: v.pidStart }),
    ...(typeof v.bootId === 'string' && { bootId: v.bootId }),
  };
}

/** A line after the header: a result, the end, or nothing usable (a line torn by a failed append, edited by hand). */
export function parseLine(line: string): HandedEntry | HandoverEnd | undefined {
  const v = parseObject(line);
  if (v?.final === true) return { final: true, results: Number(v.results) || 0, dropped: Number(v.dropped) || 0 };
  return isHandedEntry(v) ? v : undefined;
}

/** The previous version's EPOCH.json: its writer's pid, whether it was its last write, and every unread result. */
export interface LegacyHandover {
  epoch: string;
  pid: number;
  final: boolean;
  results: HandedEntry[];
}

/** The content of an old .json file, or undefined when it is not a handover; entries not shaped like results are dropped. */
export function parseLegacyHandover(text: string): LegacyHandover | undefined {
  const v = parseObject(text);
  if (!v || typeof v.epoch !== 'string' || typeof v.pid !== 'number' || typeof v.final !== 'boolean' || !Array.isArray(v.results)) return undefined;
  return { epoch: v.epoch, pid: v.pid, final: v.final, results: v.results.filter(isHandedEntry) };
}

const KINDS = new Set(['routed', 'fallback', 'mirror']);

function isHandedEntry(value: unknown): value is HandedEntry {
  if (!isObject(value)) return false;
  const { origin: o, kind, result: r, quality, stage } = value;
  return (
    isObject(o) &&
    typeof o.epoch === 'string' &&
    Number.isInteger(o.seq) &&
    typeof o.controller === 'string' &&
    typeof kind === 'string' &&
    KINDS.has(kind) &&
    isObject(r) &&
    (r.arm === 'blue' || r.arm === 'green') &&
    typeof r.ok === 'boolean' &&
    typeof r.latencyMs === 'number' &&
    isObject(quality) &&
    typeof quality.ok === 'boolean' &&
    (stage === undefined || Number.isInteger(stage))
  );
}
