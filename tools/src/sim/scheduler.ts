/**
 * One timer for the whole fleet: a binary min-heap of (due time, device id) in typed arrays, drained
 * by a single setTimeout armed for the earliest entry. 10,000 devices cost 10,000 heap slots, not
 * 10,000 timers, and scheduling allocates nothing. Rescheduling a device bumps its generation; the
 * stale heap entry is skipped when it surfaces (lazy deletion is cheaper than a heap search).
 */
const MAX_PER_TURN = 2_000;

export type FireCallback = (id: number, dueMs: number) => void;

export class Scheduler {
  #due = new Float64Array(1024);
  #ids = new Int32Array(1024);
  #gens = new Uint32Array(1024);
  #size = 0;
  /** The live generation per device id; a heap entry with another one is stale. */
  readonly #current: number[] = [];
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #stopped = false;

  constructor(
    private readonly fire: FireCallback,
    private readonly now: () => number = Date.now,
  ) {}

  /** Entries in the heap, stale ones included. */
  get size(): number {
    return this.#size;
  }

  /** Runs `fire(id)` at `atMs`, replacing whatever was scheduled for `id`. */
  schedule(id: number, atMs: number): void {
    if (this.#stopped) return;
    const gen = ((this.#current[id] ?? 0) + 1) >>> 0;
    this.#current[id] = gen;
    this.#push(atMs, id, gen);
    if (atMs < this.#timerAt) this.#arm(atMs);
  }

  cancel(id: number): void {
    this.#current[id] = ((this.#current[id] ?? 0) + 1) >>> 0;
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#size = 0;
  }

  #arm(atMs: number): void {
    clearTimeout(this.#timer);
    this.#timerAt = atMs;
    this.#timer = setTimeout(() => this.#drain(), Math.max(0, atMs - this.now()));
  }

  #drain(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = this.now();
    let fired = 0;
    while (this.#size > 0 && this.#due[0]! <= now && !this.#stopped) {
      const due = this.#due[0]!;
      const id = this.#ids[0]!;
      const gen = this.#gens[0]!;
      this.#pop();
      if (this.#current[id] !== gen) continue;
      this.fire(id, due);
      // Yield to I/O now and then, so answers are read while a large batch is being sent.
      if (++fired >= MAX_PER_TURN) return this.#arm(now);
    }
    if (this.#size > 0 && !this.#stopped) this.#arm(this.#due[0]!);
  }

  #push(due: number, id: number, gen: number): void {
    if (this.#size === this.#due.length) this.#grow();
    let i = this.#size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.#due[parent]! <= due) break;
      this.#set(i, this.#due[parent]!, this.#ids[parent]!, this.#gens[parent]!);
      i = parent;
    }
    this.#set(i, due, id, gen);
  }

  #pop(): void {
    const last = --this.#size;
    if (last === 0) return;
    const due = this.#due[last]!;
    const id = this.#ids[last]!;
    const gen = this.#gens[last]!;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= last) break;
      const right = left + 1;
      const child = right < last && this.#due[right]! < this.#due[left]! ? right : left;
      if (this.#due[child]! >= due) break;
      this.#set(i, this.#due[child]!, this.#ids[child]!, this.#gens[child]!);
      i = child;
    }
    this.#set(i, due, id, gen);
  }

  #set(i: number, due: number, id: number, gen: number): void {
    this.#due[i] = due;
    this.#ids[i] = id;
    this.#gens[i] = gen;
  }

  #grow(): void {
    const size = this.#due.length * 2;
    const due = new Float64Array(size);
    const ids = new Int32Array(size);
    const gens = new Uint32Array(size);
    due.set(this.#due);
    ids.set(this.#ids);
    gens.set(this.#gens);
    this.#due = due;
    this.#ids = ids;
    this.#gens = gens;
  }
}
