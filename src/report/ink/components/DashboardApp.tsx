// The dashboard with its keyboard: key presses go to onKey untouched, the controller decides what they mean.
import { useInput } from 'ink';
import type { KeyPress } from '../keys.js';
import type { DashboardView } from '../view-types.js';
import { Dashboard } from './Dashboard.js';

export interface DashboardAppProps {
  view: DashboardView;
  colors: boolean;
  /** False when stdin is not a terminal (no raw mode) or once the rollout has ended. */
  keysActive: boolean;
  onKey: (press: KeyPress) => void;
}

export function DashboardApp({ view, colors, keysActive, onKey }: DashboardAppProps) {
  useInput((input, key) => onKey({ input, ctrl: key.ctrl, escape: key.escape }), { isActive: keysActive });
  return <Dashboard view={view} colors={colors} />;
}
