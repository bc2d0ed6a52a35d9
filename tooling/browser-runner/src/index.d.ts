export declare const CHROMIUM_ARGS: readonly string[];
export declare const CHROMIUM_PATH: string;
export declare function chromiumAvailable(): boolean;
export declare function runInChromium(options: {
  /** Module whose `run()` export returns JSON-serialisable data. */
  entry: string;
  /** Extra entries bundled beside it as `<name>.js` (e.g. Web Worker scripts). */
  workers?: Record<string, string>;
  /** Files copied next to the bundle, name → source path (e.g. a .wasm). */
  assets?: Record<string, string>;
  timeoutMs?: number;
  onConsole?: (line: string) => void;
}): Promise<unknown>;
