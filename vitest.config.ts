import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // run tests against the TypeScript sources of workspace packages, not their dist/
    conditions: ['source'],
  },
  test: {
    include: ['libs/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts', 'tools/*/src/**/*.test.ts', 'test/**/*.test.ts', 'bench/src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    globalSetup: ['test/kafka/global-setup.ts'],
  },
});
