import { createCpuBackend } from '@sparseland/backend-cpu';
import { formatRows, QUICKSTART_RECIPE, runQuickstart } from './quickstart.js';

const backend = await createCpuBackend({ impl: 'auto' });
try {
  console.log(`sparseland quickstart: tinybooks-2k (4 layers, 4 query heads, 2 kv heads, head dim 64), 2,048 bytes of Pride and Prejudice`);
  console.log(`recipe: ${QUICKSTART_RECIPE.description}; backend: ${backend.name} (${backend.impl})\n`);
  console.log(formatRows(await runQuickstart(backend)));
  console.log('\ndensity counts kept pairs against the causal mask; recall is the dense softmax mass kept per query row;');
  console.log('times are single runs (speed is measured by pnpm bench).');
} finally {
  await backend.dispose();
}
