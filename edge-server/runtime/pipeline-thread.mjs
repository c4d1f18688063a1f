// Thread entry: the pipeline is TypeScript run through tsx, so register tsx's loader in this thread before loading it.
import { register } from 'tsx/esm/api';

register();
await import('./pipeline-thread.ts');
