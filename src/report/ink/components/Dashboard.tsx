// The dashboard's layout: its sections one under the other, blank lines between them when the view says so.
import { Box } from 'ink';
import type { DashboardView, Line } from '../view-types.js';
import { LineView } from './LineView.js';

function Section({ lines, gap, colors }: { lines: Line[]; gap: boolean; colors: boolean }) {
  if (lines.length === 0) return null;
  return (
    <Box flexDirection="column" marginTop={gap ? 1 : 0}>
      {lines.map((line, i) => (
        <LineView key={i} line={line} colors={colors} />
      ))}
    </Box>
  );
}

export function Dashboard({ view, colors }: { view: DashboardView; colors: boolean }) {
  return (
    <Box flexDirection="column" width={view.width}>
      <Section lines={view.header} gap={false} colors={colors} />
      <Section lines={view.table} gap={view.gaps} colors={colors} />
      <Section lines={view.checks} gap={view.gaps} colors={colors} />
      <Section lines={view.events} gap={view.gaps} colors={colors} />
      <Section lines={view.footer} gap={view.gaps} colors={colors} />
    </Box>
  );
}
