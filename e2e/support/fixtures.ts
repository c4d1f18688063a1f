import { writeFile } from 'node:fs/promises';
import type { TestInfo } from '@playwright/test';
import { renderTextImage } from '../../test-support/text-image';
import type { TextImageOptions } from '../../test-support/text-image';

/** Renders `lines` into a PNG in the test's own output folder and returns its path; the lines are the expected answer. */
export async function fixtureImage(testInfo: TestInfo, name: string, lines: string[], options: Omit<TextImageOptions, 'lines'> = {}): Promise<string> {
  const image = await renderTextImage({ ...options, lines });
  const path = testInfo.outputPath(`${name}.png`);
  await writeFile(path, image.png);
  return path;
}
