// One dashboard line: its segments side by side, each in the style of its tone.
import { Text } from 'ink';
import { styleFor } from '../theme.js';
import type { Line } from '../view-types.js';

export function LineView({ line, colors }: { line: Line; colors: boolean }) {
  if (line.length === 0) return <Text> </Text>;
  return (
    <Text wrap="truncate">
      {line.map((segment, i) => (
        <Text key={i} {...styleFor(segment.tone, colors)}>
          {segment.text}
        </Text>
      ))}
    </Text>
  );
}
