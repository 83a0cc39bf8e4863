// The dashboard's layout: the view's frame text in a box of its width (see frameText for why one Text).
import { Box, Text } from 'ink';
import { frameText, type DashboardView } from '../view-types.js';

export function Dashboard({ view, colors }: { view: DashboardView; colors: boolean }) {
  return (
    <Box flexDirection="column" width={view.width}>
      <Text>{frameText(view, colors)}</Text>
    </Box>
  );
}
