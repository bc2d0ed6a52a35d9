import { packageBuild } from '@sparseland/build-config/tsup';
import { defineConfig } from 'tsup';

// Two entries: the `sparseland` executable and the programmatic `main(argv)`. Node only.
export default defineConfig(packageBuild({ entry: ['src/index.ts', 'src/bin.ts'], platform: 'node' }));
