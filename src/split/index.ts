export { childRandom, createRandom, hashString, pick, randomInt, type RandomSource } from './random.js';
export { createSplitter, stickyPoint, type ArmSplitter } from './splitter.js';
