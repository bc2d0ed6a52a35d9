/** Types of scripts/generate.mjs for the freshness test. */
export declare function ascArgs(features: string): string[];
export declare const ASC_ARGS: readonly string[];
export declare const ASC_ARGS_RELAXED: readonly string[];
export declare function compileKernels(args?: readonly string[]): Promise<Uint8Array>;
export declare function bundleWorker(): Promise<string>;
export declare function generatedFiles(): Promise<Record<string, string>>;
