export declare const CHROMIUM_ARGS: readonly string[];
/** Whether a Chromium can be started: the packaged one (installed with the workspace) or CHROMIUM_PATH. */
export declare function chromiumAvailable(): boolean;
/** The packaged Chromium headless shell, unpacked on first call (or the one CHROMIUM_PATH names). */
export declare function packagedChromium(): Promise<{ executablePath: string; env: Record<string, string>; source: string }>;
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
