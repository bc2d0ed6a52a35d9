#!/usr/bin/env node
// Adds up vitest's JSON reports of every workspace package (and any extra failures passed as the first argument,
// e.g. a build step that failed before tests could run) and prints the closing line CI reads: "N passed, N failed".
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const extraFailures = Number(process.argv[2] ?? 0) || 0;
let passed = 0;
let failed = 0;
const rows = [];
for (const group of ['packages', 'apps']) {
  const dir = join(root, group);
  if (!existsSync(dir)) continue;
  for (const name of readdirSync(dir).sort()) {
    const file = join(dir, name, '.vitest-results', 'results.json');
    if (!existsSync(file)) continue;
    const report = JSON.parse(readFileSync(file, 'utf8'));
    const p = report.numPassedTests ?? 0;
    // Suites that failed to load count as failures even when they report no test.
    const f = (report.numFailedTests ?? 0) + (report.numFailedTestSuites && !report.numFailedTests ? report.numFailedTestSuites : 0);
    const s = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
    passed += p;
    failed += f;
    rows.push(
      `  ${`${group}/${name}`.padEnd(32)} ${String(p).padStart(5)} passed ${String(f).padStart(4)} failed ${String(s).padStart(4)} skipped`,
    );
  }
}
console.log('Test results by package:');
console.log(rows.join('\n') || '  (no vitest reports found)');
if (extraFailures)
  console.log(`  ${'(failed CI steps)'.padEnd(32)} ${String(0).padStart(5)} passed ${String(extraFailures).padStart(4)} failed`);
console.log(`${passed} passed, ${failed + extraFailures} failed`);
