import { defineConfig } from 'vitest/config';

/**
 * Files that compare latencies measured on this machine. They run after everything else, one at a time,
 * so that another test file competing for the two cores cannot make the comparison say what it does not.
 */
const TIMING = ['test/scim/rate-limit.test.ts'];

export default defineConfig({
  test: {
    globalSetup: ['test/helpers/global-setup.ts'],
    // Integration files each get their own database, so they may run side by side; two workers suit
    // the two-core machines this runs on.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'suite',
          include: ['src/**/*.test.ts', 'connectors/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['**/node_modules/**', ...TIMING],
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'timing',
          include: TIMING,
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
