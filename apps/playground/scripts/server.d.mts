export declare const APP_ROOT: string;
export declare function buildApp(options?: { outDir?: string; log?: boolean }): Promise<void>;
export declare function serveApp(options?: {
  outDir?: string;
  port?: number;
  onRequest?: (path: string) => void;
}): Promise<{ url: string; close: () => Promise<void> }>;
