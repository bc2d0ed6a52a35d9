#!/usr/bin/env node
import { EXIT } from './exit-codes.js';
import { main } from './main.js';
import { codeOf } from './output-files.js';

// A reader that closes the pipe (`sparseland list --json | head`) ends the output quietly; a full disk (`> /dev/full`)
// gets one line naming the reason. Never a Node stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? EXIT.ok);
  process.stderr.write(`sparseland: [E_OUTPUT] could not write to stdout: ${codeOf(error)}\n`);
  process.exit(EXIT.failure);
});
process.stderr.on('error', () => {
  // Nowhere left to report to.
});

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`sparseland: ${String(error)}\n`);
    process.exitCode = EXIT.failure;
  },
);
