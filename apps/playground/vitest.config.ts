import { packageTests } from '@sparseland/build-config/vitest';

// The browser suites share one production build and one server (test/global-setup.ts) and run one file at a time:
// each drives a headless Chromium that runs the model, on a 2-core machine.
export default packageTests({
  globalSetup: ['test/global-setup.ts'],
  fileParallelism: false,
  testTimeout: 300_000,
  hookTimeout: 300_000,
});
