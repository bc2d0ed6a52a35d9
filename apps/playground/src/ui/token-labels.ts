/** A token's text as an axis label: whitespace and control bytes made visible, long pieces cut. */
export function tokenLabel(piece: string): string {
  const shown = piece
    .replace(/\r\n|\n/g, '↵')
    .replace(/\r/g, '␍')
    .replace(/\t/g, '⇥')
    .replace(/ /g, '␣')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control bytes are exactly what must be made visible.
    .replace(/[\u0000-\u001f\u007f]/g, '·');
  return shown.length > 8 ? `${shown.slice(0, 7)}…` : shown || '∅';
}
