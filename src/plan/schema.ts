// The rollout plan's schema, assembled from its parts (schema-fields.ts and the *-schema.ts modules). Types are
// inferred from it; `bluegreen schema` turns it into JSON Schema.
import { z } from 'zod';
import { hookVisibleName, MAX_NAME_LENGTH } from './schema-fields.js';
import { simChangeSchema, simModelSchema, simulateSchema } from './sim-schema.js';
import { armSchema, priceSchema, upstreamSchema } from './arm-schema.js';
import { stageSchema, trafficSchema } from './traffic-schema.js';
import { analysisSchema, healthCheckSchema, qualitySchema } from './analysis-schema.js';
import { hookSchema, hooksSchema } from './hooks-schema.js';
import { proxySchema } from './proxy-schema.js';

export const planSchema = z.strictObject({
  name: hookVisibleName
    .min(1, 'must not be empty')
    .meta({ description: `Shown in the dashboard, state and reports, and given to hooks; at most ${MAX_NAME_LENGTH} characters` }),
  upstream: upstreamSchema,
  blue: armSchema,
  green: armSchema,
  traffic: trafficSchema
    .optional()
    .meta({ description: 'The requests a rollout generates; required unless the plan has proxy.admin (and no proxy.controller.generated_traffic)' }),
  stages: z.array(stageSchema).min(1, 'needs at least one stage'),
  // Each key's own default, built afresh for every plan.
  analysis: analysisSchema.default(() => analysisSchema.parse({})),
  health_check: healthCheckSchema.optional(),
  hooks: hooksSchema.optional(),
  proxy: proxySchema.optional().meta({ description: 'Live traffic: how `bluegreen proxy` serves the application' }),
});

export type PlanInput = z.input<typeof planSchema>;
export type ParsedPlan = z.output<typeof planSchema>;
export type SimulateConfig = z.output<typeof simulateSchema>;
export type SimModelProfile = z.output<typeof simModelSchema>;
export type SimChange = z.output<typeof simChangeSchema>;
export type Price = z.output<typeof priceSchema>;
export type Stage = z.output<typeof stageSchema>;
export type QualityRules = z.output<typeof qualitySchema>;
export type AnalysisConfig = z.output<typeof analysisSchema>;
export type HealthCheckConfig = z.output<typeof healthCheckSchema>;
export type HookConfig = z.output<typeof hookSchema>;
export type HooksConfig = z.output<typeof hooksSchema>;
export type TrafficConfig = z.output<typeof trafficSchema>;
export type ProxyConfig = z.output<typeof proxySchema>;
