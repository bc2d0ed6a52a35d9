export type { CliReport } from './commands/eval.js';
export { CLI_LIMITS } from './cli-values.js';
export { EXIT, exitCodeOf } from './exit-codes.js';
export { type MainIo, main } from './main.js';
export { type LoadedPlugins, loadPlugins, PLUGIN_PACKAGES } from './plugins.js';
