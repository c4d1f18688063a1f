/**
 * The OCR libraries users pick today, wrapped as "file in, line texts out": tesseract.js with its English data
 * read from node_modules (never fetched), and @gutenye/ocr-node (the same PP-OCRv4 models behind its own pipeline).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import GutenyeOcr from '@gutenye/ocr-node';
import { createWorker, OEM } from 'tesseract.js';

export interface TextRunner {
  read(file: string): Promise<string[]>;
  describe: string;
  release(): Promise<void>;
}

const require = createRequire(import.meta.url);

/** Folder holding eng.traineddata.gz (the integer "best" LSTM model tesseract.js itself defaults to). */
export const TESSERACT_ENG_DIR = join(dirname(require.resolve('@tesseract.js-data/eng/package.json')), '4.0.0_best_int');

export async function createTesseract(): Promise<TextRunner> {
  const { version } = require('tesseract.js/package.json') as { version: string };
  // cacheMethod 'none': read the data from the package each start and never write a copy into the working folder.
  const worker = await createWorker('eng', OEM.LSTM_ONLY, { langPath: TESSERACT_ENG_DIR, gzip: true, cacheMethod: 'none' });
  return {
    describe: `tesseract.js ${version}, eng 4.0.0_best_int`,
    async read(file) {
      const { data } = await worker.recognize(readFileSync(file));
      return data.text.split('\n').filter((l) => l.trim());
    },
    release: async () => void (await worker.terminate()),
  };
}

export async function createGutenye(): Promise<TextRunner> {
  // The package's exports map hides package.json; its entry sits in build/.
  const { version } = JSON.parse(readFileSync(join(dirname(require.resolve('@gutenye/ocr-node')), '..', 'package.json'), 'utf8')) as { version: string };
  const ocr = await GutenyeOcr.create();
  return {
    describe: `@gutenye/ocr-node ${version}`,
    async read(file) {
      const lines = (await ocr.detect(file)) as { text: string }[];
      return lines.map((l) => l.text);
    },
    async release() {},
  };
}
