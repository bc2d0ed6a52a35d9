// @ts-check
// The browser the browser suites drive: a Chromium headless shell that ships inside an npm package
// (@sparticuz/chromium: brotli-compressed binary, SwiftShader's Vulkan/GL libraries, NSS and a font), so
// `pnpm install` is all a fresh machine needs — no system Chromium, no download from outside the npm registry.
// It is unpacked once, on first use, into node_modules/.cache (atomically: concurrent test processes race safely).
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createBrotliDecompress } from 'node:zlib';
import { extract } from 'tar-fs';

const require = createRequire(import.meta.url);
/** The package's folder (its exports map does not expose package.json, so walk up from its entry point). */
function packageRoot() {
  let dir = dirname(require.resolve('@sparticuz/chromium'));
  while (!existsSync(join(dir, 'bin', 'chromium.br'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('@sparticuz/chromium is installed without its bin/ folder');
    dir = parent;
  }
  return dir;
}
const ROOT = packageRoot();
const VERSION = /** @type {{ version: string }} */ (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))).version;
const BIN = join(ROOT, 'bin');
const CACHE = join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', '.cache', 'chromium', VERSION);

/**
 * @typedef {{ executablePath: string; env: Record<string, string>; source: string }} ChromiumInstall
 */

/**
 * Unpacks `chromium.br` and its libraries next to each other (Chromium loads SwiftShader from its own folder).
 * @param {string} into  where to unpack now
 * @param {string} home  where the folder will live once renamed (for the paths written into fonts.conf)
 */
async function unpack(into, home) {
  mkdirSync(into, { recursive: true });
  await pipeline(
    createReadStream(join(BIN, 'chromium.br')),
    createBrotliDecompress(),
    createWriteStream(join(into, 'chromium'), { mode: 0o755 }),
  );
  // SwiftShader (libvk_swiftshader, libEGL, libGLESv2) beside the binary; NSS and expat in lib/; a font in fonts/.
  await pipeline(createReadStream(join(BIN, 'swiftshader.tar.br')), createBrotliDecompress(), extract(into));
  await pipeline(createReadStream(join(BIN, 'al2023.tar.br')), createBrotliDecompress(), extract(into));
  await pipeline(createReadStream(join(BIN, 'fonts.tar.br')), createBrotliDecompress(), extract(into));
  // The package's fonts.conf points at /tmp; ours points at the unpacked font.
  writeFileSync(
    join(into, 'fonts.conf'),
    `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n  <dir>${join(home, 'fonts')}</dir>\n  <cachedir>${join(home, 'fonts-cache')}</cachedir>\n</fontconfig>\n`,
  );
}

/** @type {Promise<ChromiumInstall> | undefined} */
let installing;

/**
 * The packaged Chromium, unpacked on first call. `CHROMIUM_PATH` selects another Chromium (e.g. Debian's
 * `/usr/bin/chromium`) instead.
 * @returns {Promise<ChromiumInstall>}
 */
export function packagedChromium() {
  const override = process.env.CHROMIUM_PATH;
  if (override) {
    if (!existsSync(override)) return Promise.reject(new Error(`CHROMIUM_PATH is set to ${override}, which does not exist`));
    return Promise.resolve({ executablePath: override, env: {}, source: `CHROMIUM_PATH (${override})` });
  }
  installing ??= (async () => {
    const executablePath = join(CACHE, 'chromium');
    if (!existsSync(join(CACHE, '.complete'))) {
      const staging = `${CACHE}.staging-${process.pid}-${Date.now()}`;
      try {
        await unpack(staging, CACHE);
        writeFileSync(join(staging, '.complete'), VERSION);
        mkdirSync(dirname(CACHE), { recursive: true });
        renameSync(staging, CACHE);
      } catch (error) {
        rmSync(staging, { recursive: true, force: true });
        // Another process finished first: its copy is as good as ours.
        if (!existsSync(join(CACHE, '.complete'))) throw error;
      }
    }
    const env = {
      LD_LIBRARY_PATH: [join(CACHE, 'lib'), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
      FONTCONFIG_PATH: CACHE,
    };
    return { executablePath, env, source: `@sparticuz/chromium ${VERSION}` };
  })();
  installing.catch(() => {
    installing = undefined;
  });
  return installing;
}

/** Whether a Chromium can be started: the packaged one is installed with the workspace, or CHROMIUM_PATH exists. */
export function chromiumAvailable() {
  const override = process.env.CHROMIUM_PATH;
  return override ? existsSync(override) : existsSync(join(BIN, 'chromium.br'));
}
