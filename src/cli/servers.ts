/**
 * How a read command shows the answers of several servers: a heading per server, none for one. The
 * headings stay when only one of several servers answered, so the output says which one it is.
 */
export function perServer<T extends { readonly server: string }>(answers: readonly T[], lines: (answer: T) => string[], several = answers.length > 1): string[] {
  if (!several) return answers.flatMap(lines);
  return answers.flatMap((answer, index) => [...(index > 0 ? [''] : []), `== ${answer.server}`, ...lines(answer)]);
}
