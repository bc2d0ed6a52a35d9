// @ts-check
// `pnpm playground` (after the build): serves the app on 127.0.0.1 and prints the URL. PORT picks the port.
import { serveApp } from './server.mjs';

const port = Number(process.env.PORT ?? 4173);
const { url } = await serveApp({ port });
console.log(`sparseland playground: ${url}`);
console.log('served on 127.0.0.1 only, cross-origin isolated (COOP same-origin, COEP require-corp); Ctrl+C stops it');
