import { describe, expect, it } from 'vitest';
import { createRandom } from '../../src/core/random.js';
import { createSyntheticSource } from '../../src/traffic/index.js';

describe('createSyntheticSource', () => {
  it('builds user requests from the prompts, some behind a system message', () => {
    const source = createSyntheticSource({ prompts: ['a', 'b', 'c'], maxTokens: 64, random: createRandom(1), systemShare: 0.3 });
    const requests = Array.from({ length: 2000 }, () => source.next());
    for (const request of requests) {
      expect(request.source).toBe('synthetic');
      expect(request.params).toEqual({});
      expect(request.stream).toBe(false);
      expect(request.maxTokens).toBe(64);
      expect(request.stickyKey).toBeUndefined();
      const last = request.messages.at(-1);
      expect(last?.role).toBe('user');
      expect(['a', 'b', 'c']).toContain(last?.content);
    }
    const withSystem = requests.filter((request) => request.messages[0]?.role === 'system').length / requests.length;
    expect(withSystem).toBeGreaterThan(0.25);
    expect(withSystem).toBeLessThan(0.35);
    expect(new Set(requests.map((request) => request.messages.at(-1)?.content)).size).toBe(3);
  });

  it('gives each request one of N user ids when users is set', () => {
    const source = createSyntheticSource({ prompts: ['a'], maxTokens: 10, users: 5, random: createRandom(2) });
    const keys = new Set(Array.from({ length: 500 }, () => source.next().stickyKey));
    expect([...keys].sort()).toEqual(['user-1', 'user-2', 'user-3', 'user-4', 'user-5']);
  });

  it('can leave out system messages and is reproducible', () => {
    const make = () => createSyntheticSource({ prompts: ['a', 'b'], maxTokens: 10, users: 100, systemShare: 0, random: createRandom(3) });
    const a = make();
    const b = make();
    for (let i = 0; i < 100; i++) {
      const request = a.next();
      expect(request.messages).toHaveLength(1);
      expect(request).toEqual(b.next());
    }
  });
});
