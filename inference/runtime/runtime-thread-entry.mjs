// Runtime thread bootstrap: registers tsx so the TypeScript thread loads under plain node, tsx and vitest alike.
import { register } from 'tsx/esm/api';

register();
await import('./runtime-thread-worker.ts');
