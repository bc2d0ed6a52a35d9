import type { ViteUserConfig } from 'vitest/config';
export declare function packageTests(overrides?: ViteUserConfig['test']): ViteUserConfig;
