import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // every log of the run is read for the tests' secrets at the end (test/suite-logs.ts)
    globalSetup: ['test/global-logs.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
