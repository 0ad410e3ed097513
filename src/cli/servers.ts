/** How a read command shows the answers of several servers: a heading per server, none for one. */
export function perServer<T extends { readonly server: string }>(answers: readonly T[], lines: (answer: T) => string[]): string[] {
  if (answers.length === 1) return lines(answers[0] as T);
  return answers.flatMap((answer, index) => [...(index > 0 ? [''] : []), `== ${answer.server}`, ...lines(answer)]);
}
