/**
 * When each observation is next due: a binary min-heap of due times. An entry that was moved or
 * dropped stays in the heap, marked stale, until it reaches the top (cheaper than finding it);
 * once stale entries outnumber live ones the heap is rebuilt without them, so a dropped entry
 * planned far ahead does not keep its item alive until then.
 */

/** One planned check. */
export interface Due<T> {
  at: number
  item: T
  /** Set by `drop`: the entry is skipped. */
  stale: boolean
}

/** Planned checks, earliest first. */
export class Schedule<T> {
  #heap: Due<T>[] = []
  #stale = 0

  /** Plans a check of `item` at `at`; returns the entry, to mark stale when the plan changes. */
  add(at: number, item: T): Due<T> {
    const entry = { at, item, stale: false }
    const heap = this.#heap
    heap.push(entry)
    // Sift up.
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if ((heap[parent] as Due<T>).at <= at) break
      heap[i] = heap[parent] as Due<T>
      i = parent
    }
    heap[i] = entry
    return entry
  }

  /** Drops a planned entry (its plan changed, or its item ended). */
  drop(entry: Due<T>): void {
    if (entry.stale) return
    entry.stale = true
    if (++this.#stale <= this.#heap.length / 2) return
    // Rebuilt without the stale entries: a sorted array is a valid heap.
    this.#heap = this.#heap.filter((e) => !e.stale).sort((a, b) => a.at - b.at)
    this.#stale = 0
  }

  /** The earliest live entry's time, or undefined when nothing is planned. */
  next(): number | undefined {
    this.#dropStale()
    return this.#heap[0]?.at
  }

  /** Removes and returns every live item due at or before `now`. */
  takeDue(now: number): T[] {
    const due: T[] = []
    for (;;) {
      this.#dropStale()
      const top = this.#heap[0]
      if (!top || top.at > now) return due
      this.#pop()
      due.push(top.item)
    }
  }

  #dropStale(): void {
    while (this.#heap[0]?.stale) {
      this.#pop()
      this.#stale--
    }
  }

  #pop(): void {
    const heap = this.#heap
    const last = heap.pop() as Due<T>
    if (heap.length === 0) return
    // Sift the last entry down from the top.
    let i = 0
    for (;;) {
      const left = 2 * i + 1
      if (left >= heap.length) break
      const right = left + 1
      const child =
        right < heap.length && (heap[right] as Due<T>).at < (heap[left] as Due<T>).at ? right : left
      if ((heap[child] as Due<T>).at >= last.at) break
      heap[i] = heap[child] as Due<T>
      i = child
    }
    heap[i] = last
  }
}
