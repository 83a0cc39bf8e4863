import { createRequire } from 'node:module';

// package.json is two folders up from both src/cli and dist/cli.
const require = createRequire(import.meta.url);
export const VERSION: string = (require('../../package.json') as { version: string }).version;
