// @ts-check
import { defineConfig } from 'vitest/config';

/**
 * The one vitest setup every package shares. Tests resolve workspace packages to their TypeScript source through
 * the `@sparseland/source` export condition, so no package has to be built before its tests run. Results are also
 * written as JSON (one file per package) so `.ci/run` can add up the totals of all packages.
 *
 * @param {import('vitest/config').ViteUserConfig['test']} [overrides]
 */
export function packageTests(overrides = {}) {
  const conditions = ['@sparseland/source', 'module', 'node', 'import', 'default'];
  return defineConfig({
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: ['@sparseland/source'] } },
    test: {
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      reporters: ['default', 'json'],
      outputFile: { json: '.vitest-results/results.json' },
      testTimeout: 60_000,
      hookTimeout: 60_000,
      ...overrides,
    },
  });
}
