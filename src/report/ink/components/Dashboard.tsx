// The dashboard's layout: the view's lines, drawn in a block of the view's width.
//
// Ink keeps the measurement of every distinct text it lays out, for good (vadimdemedes/ink#986, fixed only in
// Ink 7, which needs Node 22), and a live dashboard's text changes every frame: laid out as text, a rollout of
// a few hours would hold hundreds of MB. So Ink lays out a blank block of the frame's size (the same text while
// the size holds) and the Transform writes the frame's lines into it.
import { Box, Transform } from 'ink';
import { stripVTControlCharacters } from 'node:util';
import { frameLines, type DashboardView } from '../view-types.js';

export function Dashboard({ view, colors }: { view: DashboardView; colors: boolean }) {
  const lines = frameLines(view, colors);
  const blank = Array.from({ length: lines.length }, () => ' '.repeat(view.width)).join('\n');
  return (
    <Box flexDirection="column" width={view.width}>
      <Transform transform={(_, index) => lines[index] ?? ''} accessibilityLabel={stripVTControlCharacters(lines.join('\n'))}>
        {blank}
      </Transform>
    </Box>
  );
}
