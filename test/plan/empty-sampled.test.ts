// An empty sampled-traffic file is refused at the plan's own line and key, as an empty prompts file is.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { planFromYaml, tempDir } from '../helpers/plans.js';

describe('an empty sampled traffic file', () => {
  it('is a plan error naming traffic.sampled.file and its line', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'empty.jsonl'), '');
    const yaml = `name: empty-sampled
upstream: { simulate: { models: {} } }
blue: { model: a }
green: { model: b }
traffic:
  rate: 5
  sampled: { file: empty.jsonl }
stages:
  - { duration: 10s, green_weight: 0.5 }
`;
    expect(() => planFromYaml(yaml, dir)).toThrow(/:7:\d+ traffic\.sampled\.file: sampled traffic file .*empty\.jsonl is empty/);
  });
});
