import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pipelineConfigFromManifest } from '../../core/ocr';
import type { FloatTensor, OcrRole } from '../../core/ocr/types';
import { renderTextImage, type TextImage } from '../../test-support/text-image';
import { loadRepository } from '../model-repository';
import { MODEL_DIR } from '../test/paths';
import { PipelineThread } from './pipeline-thread-host';

let thread: PipelineThread;
let fixture: TextImage;

beforeAll(async () => {
  const repo = loadRepository(MODEL_DIR);
  const rec = repo.manifest.models.find((m) => m.task === 'text-recognition' && m.assets.dictionary)!;
  const dictionary = readFileSync(repo.files.get(repo.models.get(rec.name)!.assets.dictionary!.path)!.absolutePath, 'utf8');
  thread = new PipelineThread(pipelineConfigFromManifest(repo.manifest, dictionary, { models: { rec: rec.name } }));
  fixture = await renderTextImage({ lines: ['Deadline'], width: 256, height: 64 });
});
afterAll(async () => {
  await thread?.close();
});

/** A copy of the fixture image (the thread takes each image's buffer). */
const copy = () => ({ ...fixture.rgba, data: fixture.rgba.data.slice() });
/** A detector map of the fixture's size: 0 finds no text, 1 text everywhere. */
const detMap = (fill = 0): FloatTensor => ({ data: new Float32Array(64 * 256).fill(fill), dims: [1, 1, 64, 256] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Model runs held until released, as runs stuck behind other work would be; `asked` lists the roles asked for. */
function heldRuns() {
  const asked: OcrRole[] = [];
  let release: (t: FloatTensor) => void = () => {};
  const infer = (role: OcrRole) => {
    asked.push(role);
    return new Promise<FloatTensor>((resolve) => {
      release = resolve;
    });
  };
  const firstAsked = async () => {
    while (asked.length === 0) await sleep(5);
  };
  return { asked, infer, firstAsked, release: (t: FloatTensor) => release(t) };
}

describe('OCR pipeline thread', () => {
  it('answers a request still in the pipeline at its deadline, and fails the model runs it asks for afterwards', async () => {
    // Warm: an empty detector map ends the pipeline without recognition.
    await expect(thread.run(copy(), {}, async () => detMap())).resolves.toMatchObject({ lines: [] });

    // The detector run is held past the deadline.
    const held = heldRuns();
    const run = thread.run(copy(), {}, held.infer, performance.now() + 300);
    await expect(run).rejects.toMatchObject({ name: 'DeadlineUnmeetable', message: /still processing at the deadline/ });
    // Released late with text everywhere, the pipeline would go on to recognition: that run is refused here, not asked for.
    held.release(detMap(1));
    await sleep(300);
    expect(held.asked).toEqual(['det']);
  });

  it('answers a request whose client has gone at once, and fails the model runs it asks for afterwards', async () => {
    const held = heldRuns();
    const controller = new AbortController();
    const run = thread.run(copy(), {}, held.infer, Infinity, controller.signal);
    await held.firstAsked();
    controller.abort();
    await expect(run).rejects.toMatchObject({ name: 'ClientClosed' });
    held.release(detMap(1));
    await sleep(300);
    expect(held.asked).toEqual(['det']);
  });

  it('keeps a request whose deadline lies beyond the longest timer (2^31 ms) running to its answer', async () => {
    const slow = () => new Promise<FloatTensor>((resolve) => setTimeout(() => resolve(detMap()), 100));
    await expect(thread.run(copy(), {}, slow, performance.now() + 3e9)).resolves.toMatchObject({ lines: [] });
  });
});

describe('OCR pipeline thread replaced after a crash', () => {
  it("never answers the new thread's model runs with outputs meant for the crashed one", async () => {
    const own = new PipelineThread(thread['config']);
    try {
      const a = heldRuns();
      const first = own.run(copy(), {}, a.infer);
      await a.firstAsked();
      await own['worker'].terminate();
      await expect(first).rejects.toMatchObject({ name: 'WorkerCrashed' });

      // The replacement numbers its model runs from 1 again: the old request's detector output must not answer them.
      const b = heldRuns();
      const second = own.run(copy(), {}, b.infer);
      await b.firstAsked();
      a.release(detMap(1));
      await sleep(300);
      b.release(detMap(0));
      await expect(second).resolves.toMatchObject({ lines: [] });
      expect(b.asked).toEqual(['det']);
    } finally {
      await own.close();
    }
  });
});
