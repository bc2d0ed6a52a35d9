import { accessSync, constants, mkdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { quote } from './cli-values.js';
import { OutputError, UsageError } from './exit-codes.js';

// Destinations are checked before the work starts (a bad path must not cost a whole evaluation), and results are
// written all or nothing (no report.json beside a missing report.txt, no half-written file).

/** Checks that `file` can be written before any work: its folder exists and is writable, and it is not a folder. */
export function checkOutputFile(file: string, flag: string): void {
  const path = resolve(file);
  if (isDirectory(path)) throw new UsageError(`${flag} ${quote(file)} is a folder; give a file name`);
  const folder = dirname(path);
  if (!isDirectory(folder)) throw new UsageError(`${flag} ${quote(file)}: the folder ${quote(folder)} does not exist`);
  if (!writable(folder)) throw new UsageError(`${flag} ${quote(file)}: the folder ${quote(folder)} is not writable`);
  if (exists(path) && !writable(path)) throw new UsageError(`${flag} ${quote(file)} exists and is not writable`);
}

/** Creates an output folder (with its parents) before any work and checks it is writable. */
export function prepareOutputDir(dir: string, flag: string): void {
  const path = resolve(dir);
  if (exists(path) && !isDirectory(path)) throw new UsageError(`${flag} ${quote(dir)} is a file; give a folder`);
  try {
    mkdirSync(path, { recursive: true });
  } catch (error) {
    throw new UsageError(`${flag} ${quote(dir)}: cannot create the folder (${codeOf(error)})`);
  }
  if (!writable(path)) throw new UsageError(`${flag} ${quote(dir)} is not writable`);
}

/**
 * Writes every file or none: each goes to a temporary sibling first, and only when all are written are they renamed
 * into place. On failure the temporary files are removed and an OutputError names the file and the reason.
 */
export function writeFilesAtomically(files: readonly { readonly path: string; readonly data: string | Uint8Array }[]): void {
  const temps: string[] = [];
  try {
    for (const [i, file] of files.entries()) {
      const temp = `${file.path}.${process.pid}-${i}.tmp`;
      temps.push(temp);
      try {
        writeFileSync(temp, file.data);
      } catch (error) {
        throw new OutputError(`could not write ${quote(file.path)}: ${codeOf(error)}; nothing was written`);
      }
    }
    for (const [i, file] of files.entries()) renameSync(temps[i] as string, file.path);
    temps.length = 0;
  } finally {
    for (const temp of temps) {
      try {
        unlinkSync(temp);
      } catch {
        // Not created, or already renamed.
      }
    }
  }
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** `ENOSPC (no space left on device)` from a Node error. */
export function codeOf(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  const reason = ERRNO_REASONS[e?.code ?? ''];
  return e?.code ? `${e.code}${reason ? ` (${reason})` : ''}` : String((error as Error)?.message ?? error);
}

const ERRNO_REASONS: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EACCES: 'permission denied',
  EROFS: 'read-only file system',
  ENOENT: 'no such file or folder',
  EISDIR: 'is a folder',
  EPIPE: 'the reader closed the pipe',
  EDQUOT: 'disk quota exceeded',
};
