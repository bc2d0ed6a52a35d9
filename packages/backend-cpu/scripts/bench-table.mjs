// Prints bench-results/*.json as the markdown table of the README: `node scripts/bench-table.mjs`.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'bench-results');
const fmt = (x, digits = 1) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : '');
console.log('| suite | case | backend | impl | threads | N | Hq:Hkv | density | median ms | min ms | GFLOP/s | note |');
console.log('|---|---|---|---|---:|---:|---|---:|---:|---:|---:|---|');
for (const suite of ['cpu-attention', 'cpu-decode', 'cpu-estimators']) {
  const file = join(dir, `${suite}.json`);
  if (!existsSync(file)) continue;
  for (const r of JSON.parse(readFileSync(file, 'utf8'))) {
    if (r.runs === 0) continue;
    const heads = r.qHeads ? `${r.qHeads}:${r.kvHeads}` : '';
    console.log(
      `| ${suite} | ${r.case} | ${r.backend ?? ''} | ${r.impl ?? ''} | ${r.threads ?? ''} | ${r.n ?? ''} | ${heads} | ${fmt(r.density, 3)} | ${fmt(r.medianMs, r.medianMs < 10 ? 2 : 1)} | ${fmt(r.minMs, r.minMs < 10 ? 2 : 1)} | ${fmt(r.gflops)} | ${String(r.note ?? '').replaceAll('|', '\\|')} |`,
    );
  }
}
