// The dashboard as data: sections of lines, each line a few toned segments already padded to their columns.
import { truncate, textWidth } from '../text-width.js';
import { paint, type Tone } from './theme.js';

export interface Segment {
  text: string;
  tone?: Tone;
}

export type Line = Segment[];

export interface DashboardView {
  /** Columns the lines were laid out for; no line is wider. */
  width: number;
  /** Whether sections are separated by a blank line (only when the terminal is tall enough). */
  gaps: boolean;
  /** Plan name and phase, stage progress, blue/green split. */
  header: Line[];
  /** Per-stage table: arm header, column header, one row per stage shown. */
  table: Line[];
  /** Checks against thresholds, the error-rate trend, rate-limit headroom. */
  checks: Line[];
  /** Most recent events, oldest first. */
  events: Line[];
  /** Key hints, a confirmation prompt, or the final outcome. */
  footer: Line[];
}

export function lineText(line: Line): string {
  return line.map((segment) => segment.text).join('');
}

/** The whole view as styled lines, sections one under the other with a blank line between them when the view says so. */
export function frameLines(view: DashboardView, colors: boolean): string[] {
  const out: string[] = [];
  const sections = [view.header, view.table, view.checks, view.events, view.footer];
  sections.forEach((lines, index) => {
    if (lines.length === 0) return;
    if (index > 0 && view.gaps) out.push('');
    for (const line of lines) out.push(line.map((segment) => paint(segment.text, segment.tone, colors)).join(''));
  });
  return out;
}

/** Cuts a line of segments to width columns. */
export function clip(line: Line, width: number): Line {
  const out: Line = [];
  let left = width;
  for (const segment of line) {
    if (left <= 0) break;
    const text = textWidth(segment.text) > left ? truncate(segment.text, left) : segment.text;
    out.push({ ...segment, text });
    left -= textWidth(text);
  }
  return out;
}
