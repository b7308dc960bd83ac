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

  /**
   * An independent stream for one (seed, ...keys), e.g. (seed, epoch) for a shuffle or
   * (seed, epoch, batchIndex) for a batch's augmentation: the same keys give the same stream
   * whatever order the streams are made in, which is what makes prefetching deterministic.
   */
  static derive(seed: number, ...keys: readonly (number | string)[]): Random {
    let h = mix32((checkInt('Random.derive', 'seed', seed) >>> 0) ^ 0x9e3779b9);
    h = absorb(h, Math.floor(seed / 2 ** 32));
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      if (typeof k === 'string') {
        for (let c = 0; c < k.length; c++) h = absorb(h, k.charCodeAt(c));
        h = absorb(h, k.length);
      } else {
        checkInt('Random.derive', `keys[${i}]`, k);
        h = absorb(absorb(h, k), Math.floor(k / 2 ** 32));
      }
    }
    return new Random(mix32(h ^ keys.length));
  }

  getState(): number {
    return this.s;
  }

  setState(state: number): void {
    this.s = checkInt('Random.setState', 'state', state, { min: 0, max: 0xffffffff });
  }
}

/** lowbias32 (C. Wellons): a 32-bit finaliser whose output bits each depend on every input bit. */
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

function absorb(h: number, part: number): number {
  return mix32((h + 0x9e3779b9 + (part >>> 0)) >>> 0);
}
