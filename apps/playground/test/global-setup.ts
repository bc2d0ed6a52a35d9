import type { TestProject } from 'vitest/node';
import { buildApp, serveApp } from '../scripts/server.mjs';

/** Where the tests' production build goes (beside the screenshots, under the test output). */
export const TEST_BUILD = 'test-results/build';

declare module 'vitest' {
  export interface ProvidedContext {
    playgroundUrl: string;
  }
}

let close: (() => Promise<void>) | undefined;

/** Builds the app once (resolving workspace packages to their source: nothing else has to be built) and serves it. */
export async function setup(project: TestProject): Promise<void> {
  await buildApp({ outDir: TEST_BUILD });
  const server = await serveApp({ outDir: TEST_BUILD });
  close = server.close;
  project.provide('playgroundUrl', server.url);
}

export async function teardown(): Promise<void> {
  await close?.();
}
