// OpenAI-shaped requests converted for an Anthropic arm: what converts, what is dropped, what cannot be sent.
import { describe, expect, it } from 'vitest';
import { toAnthropic } from '../../src/traffic/to-anthropic.js';

describe('toAnthropic', () => {
  it('moves system and developer messages to system and keeps the turns', () => {
    const out = toAnthropic(
      [
        { role: 'system', content: 'Be terse.' },
        { role: 'developer', content: [{ type: 'text', text: 'English only.' }] },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello.' },
        { role: 'user', content: 'Bye' },
      ],
      { temperature: 1.6, stop: 'END', top_p: 0.9 },
    );
    expect(out).toEqual({
      system: 'Be terse.\n\nEnglish only.',
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello.' },
        { role: 'user', content: 'Bye' },
      ],
      params: { top_p: 0.9, temperature: 1, stop_sequences: ['END'] },
      dropped: [],
      problems: [],
    });
  });

  it('converts images given as data: and https URLs', () => {
    const out = toAnthropic(
      [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'low' } },
          ],
        },
      ],
      {},
    );
    expect(out.problems).toEqual([]);
    expect(out.messages[0]?.content).toEqual([
      { type: 'text', text: 'What is this?' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
    ]);
  });

  it('converts tools, tool choice, tool calls and tool results', () => {
    const out = toAnthropic(
      [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '18C' },
        { role: 'tool', tool_call_id: 'call_2', content: '24C' },
      ],
      {
        tools: [
          {
            type: 'function',
            function: { name: 'get_weather', description: 'Weather now', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
          },
        ],
        tool_choice: 'required',
        parallel_tool_calls: false,
      },
    );
    expect(out.problems).toEqual([]);
    expect(out.messages).toEqual([
      { role: 'user', content: 'Weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'call_2', name: 'get_weather', input: { city: 'Rome' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'call_1', content: '18C' },
          { type: 'tool_result', tool_use_id: 'call_2', content: '24C' },
        ],
      },
    ]);
    expect(out.params).toEqual({
      tools: [{ name: 'get_weather', description: 'Weather now', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
    });
  });

  it('lists parameters with no counterpart and parts that cannot be sent', () => {
    const out = toAnthropic([{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AAA', format: 'wav' } }] }], {
      response_format: { type: 'json_object' },
      n: 2,
      seed: 1,
      frequency_penalty: null,
    });
    expect(out.dropped).toEqual(['response_format', 'n', 'seed']);
    expect(out.problems).toEqual(['a input_audio content part (Anthropic takes text and images)', 'an empty user message', 'no user or assistant message']);
  });
});

describe('sampled traffic for an Anthropic arm', () => {
  it('skips lines that cannot be converted and counts the parameters left out', async () => {
    const { writeFileSync } = await import('node:fs');
    const path = await import('node:path');
    const { tempDir } = await import('../helpers/plans.js');
    const { createTrafficMix } = await import('../../src/traffic/mix.js');
    const { createRandom } = await import('../../src/core/random.js');
    const file = path.join(tempDir(), 'traffic.jsonl');
    const lines = [
      { messages: [{ role: 'user', content: 'hello' }], response_format: { type: 'json_object' } },
      { messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AAA', format: 'wav' } }] }] },
      { messages: [{ role: 'user', content: 'again' }], seed: 4, response_format: { type: 'text' } },
    ];
    writeFileSync(file, lines.map((line) => JSON.stringify(line)).join('\n'));
    const config = { rate: 1, max_in_flight: 10, stream: 0, max_tokens: 64, sampled: { file, share: 1, sample_rate: 1 } };
    const mix = createTrafficMix(config, createRandom(1), { anthropic: true });
    await mix.ready();
    // The first pass is buffered once ready: the two convertible lines, never the audio one.
    expect([mix.next().messages, mix.next().messages]).toEqual([lines[0]?.messages, lines[2]?.messages]);
    expect(mix.stats()).toMatchObject({ sampled: 2, fallbacks: 0 });
    expect(mix.stats().skippedLines).toBe(1);
    expect(mix.warning()).toContain('1 line(s) skipped, the first at line 2: cannot be sent to an Anthropic arm: a input_audio content part');
    expect(mix.warning()).toContain('left out: response_format (2), seed (1)');
    await mix.close();
  });
});
