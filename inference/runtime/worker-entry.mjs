// Worker bootstrap: registers tsx so the TypeScript worker loads under plain node, tsx and vitest alike.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
