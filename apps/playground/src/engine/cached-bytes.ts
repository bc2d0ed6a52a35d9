/** Cache Storage bucket of the embedded models and texts (their URLs carry a content hash in the build). */
export const ASSET_CACHE = 'sparseland-playground-assets-v1';

/**
 * Fetches a file once per browser and serves it from Cache Storage afterwards (the model files are megabytes; a
 * second visit must not download them again). Where Cache Storage is missing (an insecure origin), a plain fetch.
 */
export async function cachedResponse(url: string): Promise<Response> {
  const cache = typeof caches === 'object' ? await caches.open(ASSET_CACHE).catch(() => undefined) : undefined;
  const hit = await cache?.match(url);
  if (hit) return hit;
  const response = await fetch(url);
  if (!response.ok) throw new Error(`fetching ${url} failed: HTTP ${response.status}`);
  // Stored while the caller reads its copy; a failed put only costs a download next time.
  if (cache) void cache.put(url, response.clone()).catch(() => undefined);
  return response;
}

export async function cachedBytes(url: string): Promise<ArrayBuffer> {
  return (await cachedResponse(url)).arrayBuffer();
}

export async function cachedText(url: string): Promise<string> {
  return (await cachedResponse(url)).text();
}
