import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { generatedFiles } from '../scripts/generate.mjs';

// The shipped WebAssembly bytes and worker script are generated from assembly/kernels.ts and src/ by the package's
// own toolchain (asc, esbuild). If this fails, run `pnpm --filter @sparseland/backend-cpu generate` and commit.
it('src/generated is up to date with assembly/kernels.ts and the worker sources', async () => {
  const files = await generatedFiles();
  for (const [rel, text] of Object.entries(files)) {
    const committed = readFileSync(fileURLToPath(new URL(`../${rel}`, import.meta.url)), 'utf8');
    expect(committed === text, `${rel} is stale: run pnpm generate`).toBe(true);
  }
}, 60_000);
