// GET /v1/models: one listing shape both SDKs accept. OpenAI's Page reads `data`; Anthropic's reads
// `data`, `has_more`, `first_id` and `last_id`. Each entry carries both vendors' fields.
import type { SimulateConfig } from '../plan/schema.js';

export function modelEntry(id: string, createdSeconds: number) {
  return {
    id,
    object: 'model',
    created: createdSeconds,
    owned_by: 'bluegreen-sim',
    type: 'model',
    display_name: id,
    created_at: new Date(createdSeconds * 1000).toISOString(),
  };
}

export function modelList(config: SimulateConfig, createdSeconds: number) {
  const ids = Object.keys(config.models);
  return {
    object: 'list',
    data: ids.map((id) => modelEntry(id, createdSeconds)),
    has_more: false,
    first_id: ids[0] ?? null,
    last_id: ids[ids.length - 1] ?? null,
  };
}
