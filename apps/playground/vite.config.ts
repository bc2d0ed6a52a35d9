import { defaultClientConditions, defineConfig } from 'vite';

/**
 * Cross-origin isolation: SharedArrayBuffer (and so the CPU backend's worker threads over shared memory) exists only
 * on pages served with these two headers. Static hosts must send them too (see README).
 */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
} as const;

export default defineConfig({
  // Relative asset URLs: the static build works from any folder of any static host.
  base: './',
  // Workspace packages resolve to their TypeScript source (as in every package's tests), so the app never runs
  // against a stale dist/ of a package.
  resolve: { conditions: ['@sparseland/source', ...defaultClientConditions] },
  worker: {
    format: 'es',
    // gpu.js compiles kernels from their JavaScript source: a minifier's renamed (shadowing) locals and comma
    // expressions break its parser, so worker code keeps its names and statements (whitespace only is dropped).
    rolldownOptions: { output: { minify: { compress: false, mangle: false, codegen: { removeWhitespace: true } } } },
  },
  server: { host: '127.0.0.1', headers: ISOLATION_HEADERS, strictPort: false },
  preview: { host: '127.0.0.1', headers: ISOLATION_HEADERS },
  build: {
    target: 'es2022',
    // The embedded model files stay separate files so browsers fetch them once and cache them.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 2048,
    reportCompressedSize: true,
  },
});
