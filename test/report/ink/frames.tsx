// Renders dashboard views through ink-testing-library and cleans frames for comparison.
import { stripVTControlCharacters } from 'node:util';
import { render } from 'ink-testing-library';
import type { RolloutSnapshot } from '../../../src/engine/types.js';
import { Dashboard } from '../../../src/report/ink/components/Dashboard.js';
import { buildDashboardView, type ViewOptions } from '../../../src/report/ink/view-model.js';
import { NOW } from './fixtures.js';

/** Colour gone, and the digits that move between runs (clock times, durations) replaced by placeholders. */
export function cleanFrame(frame: string): string {
  return stripVTControlCharacters(frame)
    .replace(/\b\d{2}:\d{2}:\d{2}\b/g, 'hh:mm:ss')
    .replace(/\b\d+(?::\d{2})+ elapsed/g, 'm:ss elapsed')
    .replace(/\b(\d+h)?(\d+m)?\d+(\.\d+)?(ms|s) (left|ago)/g, 'T $5')
    .replace(/\b(\d+h)?\d+m\d+s (left|ago)/g, 'T $2');
}

/**
 * The last frame drawn. Not lastFrame(): with $CI set, Ink writes its (empty, in debug mode) last output once more
 * on unmount, so the last frame with content is the one a person saw.
 */
export function lastDrawn(frames: readonly string[]): string {
  return frames.filter((frame) => frame.trim() !== '').at(-1) ?? '';
}

export function renderView(snapshot: RolloutSnapshot, options: Partial<ViewOptions> & { colors?: boolean } = {}): { raw: string; frame: string } {
  const { colors = false, ...rest } = options;
  const view = buildDashboardView(snapshot, { now: NOW, steadyNow: NOW, columns: 100, rows: 30, mode: 'control', keys: {}, ...rest });
  const instance = render(<Dashboard view={view} colors={colors} />);
  const raw = lastDrawn(instance.frames);
  instance.unmount();
  return { raw, frame: cleanFrame(raw) };
}
