import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{core,web,edge-server,models,bench,test-support}/**/*.test.ts'],
    // Model-backed tests share 2 cores with onnxruntime threads; give them room.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: false,
  },
});
