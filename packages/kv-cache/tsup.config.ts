import { packageBuild } from '@sparseland/build-config/tsup';
import { defineConfig } from 'tsup';

export default defineConfig(packageBuild());
