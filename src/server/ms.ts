/**
 * beanstalkd's unordered set (ms.c), kept as it is because its order shows: `list-tubes` and
 * `list-tubes-watched` list in its order, and which waiting connection gets a job is its `take`.
 * Removing swaps the last item into the hole; `take` walks round-robin from where it last took.
 */
export class Ms<T> {
  private readonly items: T[] = [];
  private last = 0;

  constructor(
    private readonly onInsert?: (item: T) => void,
    private readonly onRemove?: (item: T) => void,
  ) {}

  get length(): number {
    return this.items.length;
  }

  at(index: number): T | undefined {
    return this.items[index];
  }

  [Symbol.iterator](): IterableIterator<T> {
    return this.items[Symbol.iterator]();
  }

  append(item: T): void {
    this.items.push(item);
    this.onInsert?.(item);
  }

  contains(item: T): boolean {
    return this.items.includes(item);
  }

  remove(item: T): boolean {
    const index = this.items.indexOf(item);
    return index !== -1 && this.delete(index);
  }

  /** The oldest item first, mostly: see ms.c. */
  take(): T | undefined {
    if (this.items.length === 0) return undefined;
    this.last %= this.items.length;
    const item = this.items[this.last] as T;
    this.delete(this.last);
    this.last += 1;
    return item;
  }

  clear(): void {
    while (this.delete(0));
    this.last = 0;
  }

  private delete(index: number): boolean {
    if (index >= this.items.length) return false;
    const item = this.items[index] as T;
    const moved = this.items.pop() as T;
    if (index < this.items.length) this.items[index] = moved;
    this.onRemove?.(item);
    return true;
  }
}
