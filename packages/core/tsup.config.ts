import { packageBuild } from '@sparseland/build-config/tsup';
import { defineConfig } from 'tsup';

// Two entries sharing one copy of every module (splitting): `BlockMask` from `@sparseland/core` and from
// `@sparseland/core/kit` must be the same class for `instanceof`.
export default defineConfig(packageBuild({ entry: ['src/index.ts', 'src/kit.ts'], splitting: true }));
