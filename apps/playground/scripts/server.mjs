// @ts-check
// Serves the built app (dist/) on 127.0.0.1 only, with the cross-origin isolation headers the CPU backend's worker
// threads need (vite.config.ts sets them for `preview`). Shared by `pnpm playground`, the tests and the timing script.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build, preview } from 'vite';

export const APP_ROOT = fileURLToPath(new URL('..', import.meta.url));
const CONFIG = fileURLToPath(new URL('../vite.config.ts', import.meta.url));

/** Builds the app into `outDir` (default dist/); quiet unless `log`. */
export async function buildApp({ outDir = 'dist', log = false } = {}) {
  await build({ configFile: CONFIG, root: APP_ROOT, logLevel: log ? 'info' : 'warn', build: { outDir, emptyOutDir: true } });
}

/**
 * Serves a build. `onRequest` sees every request path (the timing script counts model downloads with it).
 * @param {{ outDir?: string; port?: number; onRequest?: (path: string) => void }} [options]
 */
export async function serveApp({ outDir = 'dist', port = 0, onRequest } = {}) {
  if (!existsSync(`${APP_ROOT}/${outDir}/index.html`))
    throw new Error(`no build in ${APP_ROOT}${outDir}: run \`pnpm --filter @sparseland/playground build\` first`);
  const server = await preview({
    configFile: CONFIG,
    root: APP_ROOT,
    logLevel: 'warn',
    build: { outDir },
    preview: { host: '127.0.0.1', port, strictPort: port !== 0, open: false },
    plugins: onRequest
      ? [
          {
            name: 'count-requests',
            configurePreviewServer(s) {
              s.middlewares.use((req, _res, next) => {
                onRequest(req.url ?? '');
                next();
              });
            },
          },
        ]
      : [],
  });
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('the preview server did not report its URL');
  return { url, close: () => server.close() };
}
