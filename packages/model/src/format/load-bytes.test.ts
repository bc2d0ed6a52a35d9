import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import { modelFiles } from '@sparseland/fixtures';
import { describe, expect, it } from 'vitest';
import { loadCheckpoint, loadTokenizer } from '../index.js';

describe('loading files', () => {
  const files = modelFiles('stories260K');

  it('reads paths and file: URLs in Node', async () => {
    expect((await loadCheckpoint(files.checkpoint)).config.dim).toBe(64);
    expect((await loadCheckpoint(pathToFileURL(files.checkpoint))).config.layers).toBe(5);
    expect((await loadTokenizer(pathToFileURL(files.tokenizer).href, 512)).vocabSize).toBe(512);
  });

  it('fetches http URLs and reports HTTP errors', async () => {
    const { readFile } = await import('node:fs/promises');
    const body = await readFile(files.tokenizer);
    const server = createServer((req, res) => {
      if (req.url === '/tok512.bin') res.writeHead(200).end(body);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      expect((await loadTokenizer(`http://127.0.0.1:${port}/tok512.bin`, 512)).encode('Once')).toEqual([403]);
      await expect(loadCheckpoint(`http://127.0.0.1:${port}/missing.bin`)).rejects.toThrow(/fetching ".*missing.bin" gave HTTP 404/);
    } finally {
      server.close();
    }
  });

  it('says what went wrong with a path', async () => {
    await expect(loadCheckpoint('/no/such/model.bin')).rejects.toThrow(/E_PARAMS.*cannot read "\/no\/such\/model.bin"/);
    await expect(loadCheckpoint('')).rejects.toThrow(/expected a file path or a URL/);
    // A readable file that is not a checkpoint is a format error.
    await expect(loadCheckpoint(files.tokenizer)).rejects.toMatchObject({ code: 'E_MODEL_FORMAT' });
  });
});
