#!/usr/bin/env node
// `pnpm --filter @sparseland/backend-gpujs gpu-check [-- options]`
//
// Bundles scripts/gpu-check-entry.ts (conformance cases + benchmark in webgpu mode) into .gpu/gpu-check.mjs and runs
// it with this Node. Options after `--` go to the check: --mode=webgpu --sizes=2048,4096,8192 --runs=5 --out=file.
//
// `-- --pack` prepares the lent GPU machine instead (it has no Node, no Vulkan loader and no network): it puts in
// .gpu/ (git-ignored) this Node binary (xz), the runtime node_modules (gpu.js and its deps, webgpu/Dawn for linux-x64
// only), Debian's libvulkan1 .deb and run.sh, and prints the device command. See the README's "GPU check" section.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const pkg = dirname(dirname(fileURLToPath(import.meta.url)));
const out = join(pkg, '.gpu');
const argv = process.argv.slice(2);
const pack = argv.includes('--pack');
const checkArgs = argv.filter((a) => a !== '--pack');
mkdirSync(out, { recursive: true });

await build({
  entryPoints: [join(pkg, 'scripts/gpu-check-entry.ts')],
  outfile: join(out, 'gpu-check.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  conditions: ['@sparseland/source'],
  external: ['gpu.js', 'webgpu'],
  logLevel: 'warning',
});

if (!pack) {
  const run = spawnSync(process.execPath, [join(out, 'gpu-check.mjs'), ...checkArgs], { stdio: 'inherit' });
  process.exit(run.status ?? 1);
}

// 1. Node itself (the GPU machine has none).
execFileSync('sh', ['-c', `xz -T2 -6 -c "${process.execPath}" > "${join(out, 'node.xz')}"`]);

// 2. Runtime node_modules: gpu.js with its dependencies, and webgpu without its macOS / Windows binaries.
const stage = join(out, 'stage');
rmSync(stage, { recursive: true, force: true });
const copyPackage = (name, from) => {
  const dir = dirname(realpathSync(createRequire(from).resolve(`${name}/package.json`)));
  cpSync(dir, join(stage, 'node_modules', name), {
    recursive: true,
    dereference: true,
    filter: (src) => !/[/\\]dist[/\\](darwin|win32)[^/\\]*$/.test(src),
  });
  return dir;
};
const gpujsDir = copyPackage('gpu.js', join(pkg, 'package.json'));
for (const dep of ['acorn', 'gpu-mock.js']) copyPackage(dep, join(gpujsDir, 'package.json'));
copyPackage('webgpu', join(pkg, 'package.json'));
execFileSync('tar', ['-cJf', join(out, 'node_modules.tar.xz'), '-C', stage, 'node_modules']);
rmSync(stage, { recursive: true, force: true });

// 3. The Vulkan loader, as a Debian package to unpack there.
if (!readdirSync(out).some((f) => f.startsWith('libvulkan1') && f.endsWith('.deb'))) {
  const got = spawnSync('apt-get', ['download', 'libvulkan1'], { cwd: out, stdio: 'inherit' });
  if (got.status !== 0) console.warn('could not download libvulkan1: bring it yourself (apt-get download libvulkan1) into .gpu/');
}

// 4. The script the device runs.
writeFileSync(
  join(out, 'run.sh'),
  `#!/usr/bin/env bash
# Runs the gpujs GPU check on a bare Linux GPU machine (made by scripts/gpu-check.mjs --pack).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p /tmp/gpujs-check
xz -dc "$here/node.xz" > /tmp/gpujs-check/node
chmod +x /tmp/gpujs-check/node
[ -d "$here/node_modules" ] || tar -xJf "$here/node_modules.tar.xz" -C "$here"
if ! ldconfig -p | grep -q libvulkan; then
  for f in "$here"/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
export VK_DRIVER_FILES="\${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || true
/tmp/gpujs-check/node "$here/gpu-check.mjs" --out="\${OUT:-$here}/gpu-check.json" "$@"
`,
  { mode: 0o755 },
);
const rel = 'packages/backend-gpujs/.gpu';
console.log(`packed ${out}:`);
for (const f of readdirSync(out)) console.log(`  ${f}`);
console.log(`device run: carry ["${rel}"], command "bash ${rel}/run.sh", timeout_s 420 (about 4 min of checks)`);
if (!existsSync(join(out, 'gpu-check.mjs'))) process.exit(1);
