// @ts-check
/**
 * The one build every package shares: ESM only, type declarations, source maps, no minification (users'
 * bundlers minify), and every dependency left external so plugins share one copy of `@sparseland/core`.
 * A package's `tsup.config.ts` is `defineConfig(packageBuild({ entry: [...] }))`.
 * Plain JavaScript so Node, tsup and vitest can load it without a TypeScript loader.
 *
 * @param {import('tsup').Options} [overrides]
 * @returns {import('tsup').Options}
 */
export function packageBuild(overrides = {}) {
  return {
    entry: ['src/index.ts'],
    format: ['esm'],
    target: 'es2022',
    platform: 'neutral',
    dts: true,
    sourcemap: true,
    clean: true,
    splitting: false,
    treeshake: true,
    ...overrides,
  };
}
