/** A binary min-heap whose items know their place, so any one can be removed in O(log n). */
export interface Placed {
  heapIndex: number;
}

export class Heap<T extends Placed> {
  private readonly data: T[] = [];

  constructor(private readonly less: (a: T, b: T) => boolean) {}

  get length(): number {
    return this.data.length;
  }

  peek(): T | undefined {
    return this.data[0];
  }

  insert(item: T): void {
    this.data.push(item);
    item.heapIndex = this.data.length - 1;
    this.up(item.heapIndex);
  }

  remove(item: T): void {
    const index = item.heapIndex;
    const last = this.data.pop() as T;
    if (index < this.data.length) {
      this.data[index] = last;
      last.heapIndex = index;
      this.up(index);
      this.down(last.heapIndex);
    }
    item.heapIndex = -1;
  }

  private up(index: number): void {
    let k = index;
    while (k > 0) {
      const parent = (k - 1) >> 1;
      if (!this.less(this.data[k] as T, this.data[parent] as T)) return;
      this.swap(k, parent);
      k = parent;
    }
  }

  private down(index: number): void {
    let k = index;
    for (;;) {
      const left = 2 * k + 1;
      const right = left + 1;
      let smallest = k;
      if (left < this.data.length && this.less(this.data[left] as T, this.data[smallest] as T)) smallest = left;
      if (right < this.data.length && this.less(this.data[right] as T, this.data[smallest] as T)) smallest = right;
      if (smallest === k) return;
      this.swap(k, smallest);
      k = smallest;
    }
  }

  private swap(a: number, b: number): void {
    const first = this.data[a] as T;
    const second = this.data[b] as T;
    this.data[a] = second;
    this.data[b] = first;
    second.heapIndex = a;
    first.heapIndex = b;
  }
}
