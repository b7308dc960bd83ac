// A seeded JS generator for shuffling and augmentation choices. Its whole state is one
// 32-bit integer, so checkpoints can store it and resume the same sequence.
import { checkInt } from '../validate.js';

/** mulberry32: fast, 2^32 period, good enough to pick flips and shuffle orders. */
export class Random {
  private s: number;

  constructor(seed = 0) {
    this.s = checkInt('Random', 'seed', seed) >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    if (!(Number.isInteger(n) && n >= 1)) checkInt('Random.int', 'n', n, { min: 1 });
    return Math.floor(this.next() * n);
  }

  /** A shuffled copy (Fisher-Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const a = [...items];
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  }

  getState(): number {
    return this.s;
  }

  setState(state: number): void {
    this.s = checkInt('Random.setState', 'state', state, { min: 0, max: 0xffffffff });
  }
}
