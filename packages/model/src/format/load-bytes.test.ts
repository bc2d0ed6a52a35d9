import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

  it('refuses devices, pipes and directories without reading them (no endless read of /dev/zero)', async () => {
    await expect(loadCheckpoint('/dev/zero')).rejects.toThrow(/E_PARAMS.*"\/dev\/zero" is not a regular file \(a device\)/);
    await expect(loadTokenizer('/dev/zero', 512)).rejects.toThrow(/not a regular file/);
    await expect(loadCheckpoint(tmpdir())).rejects.toThrow(/not a regular file \(a directory\)/);
  });

  it('checks the header against the file size before reading (or allocating) a large file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sparseland-load-'));
    const path = join(dir, 'bad.bin');
    const fd = openSync(path, 'w');
    try {
      // 256 MiB, sparse on disk, with a header of zeros: dim 0 is refused after 256 bytes.
      writeSync(fd, new Uint8Array(256));
      ftruncateSync(fd, 256 * 2 ** 20);
    } finally {
      closeSync(fd);
    }
    try {
      const before = process.memoryUsage().arrayBuffers;
      await expect(loadCheckpoint(path)).rejects.toMatchObject({ code: 'E_MODEL_FORMAT' });
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(32 * 2 ** 20);
      // A tokenizer file past its limit is refused from its size alone.
      await expect(loadTokenizer(path, 512)).rejects.toThrow(/E_PARAMS.*more than the limit of 67108864 bytes/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a valid header whose size does not match before reading the weights', async () => {
    const { readFile } = await import('node:fs/promises');
    const good = await readFile(files.checkpoint);
    const dir = mkdtempSync(join(tmpdir(), 'sparseland-load-'));
    const path = join(dir, 'truncated.bin');
    const fd = openSync(path, 'w');
    writeSync(fd, good.subarray(0, good.length - 4));
    closeSync(fd);
    try {
      await expect(loadCheckpoint(path)).rejects.toThrow(/E_MODEL_FORMAT.*needs exactly.*truncated/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops an http body that passes the limit', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200); // no content-length: the limit is enforced while streaming
      const chunk = new Uint8Array(1 << 20);
      let sent = 0;
      const pump = () => {
        while (sent < 80 && res.write(chunk)) sent++;
        if (sent < 80) res.once('drain', pump);
        else res.end();
      };
      pump();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      await expect(loadTokenizer(`http://127.0.0.1:${port}/huge.bin`, 512)).rejects.toThrow(/more than the limit of 67108864 bytes/);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
