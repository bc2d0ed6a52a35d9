/** Types of scripts/generate.mjs for the freshness test. */
export declare const ASC_ARGS: readonly string[];
export declare function compileKernels(): Promise<Uint8Array>;
export declare function bundleWorker(): Promise<string>;
export declare function generatedFiles(): Promise<Record<string, string>>;
