// Thread entry: the bare pipeline is TypeScript run through tsx, so register tsx's loader in this thread first.
import { register } from 'tsx/esm/api';

register();
await import('./bare-ocr-worker.ts');
