import { createCpuBackend } from '@sparseland/backend-cpu';
import { printQuickstart } from './quickstart.js';

const backend = await createCpuBackend({ impl: 'auto' });
try {
  await printQuickstart(backend);
} finally {
  await backend.dispose();
}
