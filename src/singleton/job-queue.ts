/**
 * @module singleton/job-queue: the owner's queue of actions to run, first in first out, bounded, with O(1) push and
 * shift (a head index over an array, compacted now and then; `Array.shift` moves every element).
 */

export class JobQueue<T> {
  #items: (T | undefined)[] = [];
  #head = 0;
  readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  get length(): number {
    return this.#items.length - this.#head;
  }

  get full(): boolean {
    return this.length >= this.max;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  /** Puts `item` back at the front (it could not run yet). */
  unshift(item: T): void {
    if (this.#head > 0) this.#items[--this.#head] = item;
    else this.#items.unshift(item);
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Takes everything out, in order. */
  drain(): T[] {
    const out = this.#items.slice(this.#head) as T[];
    this.#items = [];
    this.#head = 0;
    return out;
  }
}
