// `bluegreen schema`: the plan's JSON Schema, generated from the zod schema, for editors and linters.
import { z } from 'zod';
import { planSchema } from '../../plan/schema.js';

export function planJsonSchema(): Record<string, unknown> {
  // "input" describes what a person writes (durations as strings), not what the parser returns.
  const schema = z.toJSONSchema(planSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, title: 'bluegreen rollout plan' };
}
