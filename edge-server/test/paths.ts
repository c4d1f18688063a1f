import { fileURLToPath } from 'node:url';

/** The built model repository of this checkout. */
export const MODEL_DIR = fileURLToPath(new URL('../../models/repository', import.meta.url));
