// The built-in simulated upstream: OpenAI- and Anthropic-compatible, with seeded per-model faults.
export { startSimulator, type SimulatorHandle, type SimulatorOptions } from './server.js';
export { builtinSimConfig } from './builtin.js';
export { DEFAULT_PROFILE, profileAt, findProfile, type EffectiveProfile } from './profile.js';
