export { createSplitter, stickyPoint, type ArmSplitter } from './splitter.js';
