/** One reply from the server: the words of its line, and its data block when the word has one (RESERVED, FOUND, OK). */
export interface Reply {
  readonly word: string;
  readonly args: readonly string[];
  readonly body: Buffer | null;
}

/** A decimal count of 1 to 16 digits (the largest a JS number holds exactly, near enough), or null. */
export function parseCount(text: string | undefined): number | null {
  if (text === undefined || text.length === 0 || text.length > 16) return null;
  let value = 0;
  for (let i = 0; i < text.length; i += 1) {
    const digit = text.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return null;
    value = value * 10 + digit;
  }
  return value;
}
