// Composition: Compose (in order), OneOf (one child per sample), SomeOf (n children per sample).
// Choices are drawn per sample, as albumentations draws them per image; each child then runs
// once over the batch, touching only the samples that chose it.
import { torch, type Tensor } from '../../torch/index.js';
import { checkInt, invalidParameterError, readOptions, show } from '../../validate.js';
import type { Batch } from '../dataset.js';
import type { Random } from '../random.js';
import { readP, weightedChoice } from './options.js';
import { checkBatch, disposeBatch, isGated, mergeSamples, selectSamples, type Gated, type Transform } from './transform.js';

function checkTransforms(where: string, transforms: unknown): Transform[] {
  if (!Array.isArray(transforms)) throw invalidParameterError(where, 'transforms', 'an array of transforms', transforms);
  transforms.forEach((t, i) => {
    if (typeof t !== 'object' || t === null || typeof (t as Transform).apply !== 'function')
      throw invalidParameterError(where, `transforms[${i}]`, 'a transform (an object with apply(batch, random))', t);
  });
  return [...transforms];
}

/** A child's (height, width) after it runs; transforms from elsewhere are taken to keep the size. */
function sizeAfter(t: Transform, height: number, width: number): [number, number] {
  return isGated(t) ? t.outputSize(height, width) : [height, width];
}

const sameSize = (a: readonly number[], b: readonly number[]): boolean => a[0] === b[0] && a[1] === b[1];

/**
 * Runs `t` on the samples where `eligible` holds (null: all). Segkit transforms gate
 * themselves; others run on a sub-batch that is merged back (their own p applies; `force`
 * cannot reach them).
 */
function runOn(t: Transform, batch: Batch, random: Random, eligible: readonly boolean[] | null, force: boolean, where: string): Batch {
  if (isGated(t)) return t.run(batch, random, eligible, force);
  if (eligible === null || eligible.every(Boolean)) return t.apply(batch, random);
  const indices = eligible.flatMap((e, i) => (e ? [i] : []));
  if (indices.length === 0) return batch;
  return mergeSamples(batch, indices, t.apply(selectSamples(batch, indices), random), where);
}

/** The per-sample gate of a composite: eligible and (forced or U < p). */
function gate(n: number, p: number, random: Random, eligible: readonly boolean[] | null, force: boolean): boolean[] {
  const out = new Array<boolean>(n);
  for (let i = 0; i < n; i++) out[i] = (eligible === null || eligible[i]!) && (force || random.next() < p);
  return out;
}

function describeNames(transforms: readonly Transform[]): string {
  return transforms.map((t) => t.name).join(', ');
}

/**
 * Applies `transforms` in order (albumentations' Compose; p = 1 by default). With p < 1 each
 * sample goes through the whole list or none of it; then no child may change the size.
 */
export class Compose implements Gated {
  readonly name = 'Compose';
  readonly transforms: readonly Transform[];
  readonly p: number;

  constructor(transforms: Transform[], options?: { p?: number }) {
    this.transforms = checkTransforms('Compose', transforms);
    this.p = readP(readOptions('Compose', options, ['p']), 1);
  }
  apply(batch: Batch, random: Random): Batch {
    return this.run(batch, random, null, false);
  }
  outputSize(height: number, width: number): [number, number] {
    return this.transforms.reduce<[number, number]>((s, t) => sizeAfter(t, s[0], s[1]), [height, width]);
  }
  /** @internal */
  run(batch: Batch, random: Random, eligible: readonly boolean[] | null, force: boolean): Batch {
    const { n, height, width } = checkBatch(this.name, batch);
    const partial = (!force && this.p < 1) || (eligible !== null && !eligible.every(Boolean));
    if (partial && !sameSize(this.outputSize(height, width), [height, width])) {
      throw new RangeError(
        `${this.name}: with p < 1 (here ${show(this.p)}) or inside OneOf/SomeOf, its transforms must keep the size (a batch holds one size), but [${describeNames(this.transforms)}] change ${height}x${width} to ${this.outputSize(height, width).join('x')}`,
      );
    }
    const on = gate(n, this.p, random, eligible, force);
    if (!on.some(Boolean)) return batch;
    const children = on.every(Boolean) ? null : on;
    let out = batch;
    for (const t of this.transforms) out = runOn(t, out, random, children, false, this.name);
    return out;
  }
}

/** A child's weight in OneOf: its p (albumentations normalises the children's p). */
const weightOf = (t: Transform): number => (typeof (t as Gated).p === 'number' ? (t as Gated).p : 1);

/**
 * Applies one of `transforms` per sample, child i with probability p_i / sum(p) where p_i is
 * the child's own p, and then regardless of that p (albumentations' OneOf; p = 0.5 by default).
 * Children that change the size must all give the same size, and then p must be 1.
 */
export class OneOf implements Gated {
  readonly name = 'OneOf';
  readonly transforms: readonly Transform[];
  readonly p: number;
  private readonly weights: number[];
  private readonly total: number;

  constructor(transforms: Transform[], options?: { p?: number }) {
    this.transforms = checkTransforms('OneOf', transforms);
    this.p = readP(readOptions('OneOf', options, ['p']), 0.5);
    this.weights = this.transforms.map(weightOf);
    this.total = this.weights.reduce((a, b) => a + b, 0);
  }
  apply(batch: Batch, random: Random): Batch {
    return this.run(batch, random, null, false);
  }
  outputSize(height: number, width: number): [number, number] {
    const sizes = this.transforms.filter((_, i) => this.weights[i]! > 0).map((t) => sizeAfter(t, height, width));
    const first = sizes[0] ?? [height, width];
    if (!sizes.every((s) => sameSize(s, first))) {
      throw new RangeError(
        `${this.name}: its transforms give different sizes for ${height}x${width} (${sizes.map((s) => s.join('x')).join(', ')} from [${describeNames(this.transforms)}]); a batch holds one size`,
      );
    }
    return first;
  }
  /** @internal */
  run(batch: Batch, random: Random, eligible: readonly boolean[] | null, force: boolean): Batch {
    const { n, height, width } = checkBatch(this.name, batch);
    if (this.transforms.length === 0 || this.total === 0) return batch;
    const size = this.outputSize(height, width);
    const resizes = !sameSize(size, [height, width]);
    const partial = (!force && this.p < 1) || (eligible !== null && !eligible.every(Boolean));
    if (resizes && partial) {
      throw new RangeError(
        `${this.name}: p must be 1 when its transforms change the size (${height}x${width} -> ${size.join('x')}; a batch holds one size), got ${show(this.p)}`,
      );
    }
    const on = gate(n, this.p, random, eligible, force);
    const choice = on.map((o) => (o ? weightedChoice(random, this.weights, this.total) : -1));
    const groups = this.transforms.map((_, k) => choice.flatMap((c, i) => (c === k ? [i] : [])));
    if (!resizes) {
      let out = batch;
      groups.forEach((g, k) => {
        if (g.length > 0)
          out = runOn(
            this.transforms[k]!,
            out,
            random,
            choice.map((c) => c === k),
            true,
            this.name,
          );
      });
      return out;
    }
    const used = groups.map((g, k) => [g, k] as const).filter(([g]) => g.length > 0);
    if (used.length === 1) return runOn(this.transforms[used[0]![1]]!, batch, random, null, true, this.name);
    return this.resizeGroups(batch, random, used);
  }

  /** Size-changing children on parts of the batch: run each on its samples, then put the batch back in order. */
  private resizeGroups(batch: Batch, random: Random, used: (readonly [number[], number])[]): Batch {
    const parts: Batch[] = [];
    try {
      for (const [indices, k] of used) parts.push(runOn(this.transforms[k]!, selectSamples(batch, indices), random, null, true, this.name));
      const order = used.flatMap(([indices]) => indices);
      const inverse = new Int32Array(order.length);
      order.forEach((sample, position) => {
        inverse[sample] = position;
      });
      const merged = torch.tidy(() => {
        const idx = torch.tensor(inverse).long();
        const cat = (key: 'image' | 'mask'): Tensor => torch.cat(parts.map((p) => p[key])).indexSelect(0, idx);
        return { image: cat('image'), mask: cat('mask') };
      });
      const metas = parts.flatMap((p) => p.meta);
      const meta = Array.from(inverse, (position) => metas[position]!);
      return { image: merged.image, mask: merged.mask, meta };
    } finally {
      for (const p of parts) disposeBatch(p);
      disposeBatch(batch);
    }
  }
}

/**
 * Applies n of `transforms` per sample, chosen uniformly (with or without replacement) and run
 * in list order, each with its own p (albumentations' SomeOf; n = 1, p = 1 by default). Its
 * transforms must keep the size.
 */
export class SomeOf implements Gated {
  readonly name = 'SomeOf';
  readonly transforms: readonly Transform[];
  readonly n: number;
  readonly replace: boolean;
  readonly p: number;

  constructor(transforms: Transform[], options?: { n?: number; replace?: boolean; p?: number }) {
    this.transforms = checkTransforms('SomeOf', transforms);
    const o = readOptions('SomeOf', options, ['n', 'replace', 'p']);
    this.n = o.int('n', 1, { min: 0 });
    this.replace = o.bool('replace', false);
    this.p = readP(o, 1);
    if (!this.replace && this.n > this.transforms.length) checkInt('SomeOf', 'n', this.n, { min: 0, max: this.transforms.length });
  }
  apply(batch: Batch, random: Random): Batch {
    return this.run(batch, random, null, false);
  }
  outputSize(height: number, width: number): [number, number] {
    return [height, width];
  }
  /** @internal */
  run(batch: Batch, random: Random, eligible: readonly boolean[] | null, force: boolean): Batch {
    const { n, height, width } = checkBatch(this.name, batch);
    const resizing = this.transforms.filter((t) => !sameSize(sizeAfter(t, height, width), [height, width]));
    if (resizing.length > 0)
      throw new RangeError(
        `${this.name}: its transforms must keep the size (a batch holds one size), but [${describeNames(resizing)}] change ${height}x${width}`,
      );
    const on = gate(n, this.p, random, eligible, force);
    const k = this.transforms.length;
    // counts[i][t]: how many times sample i runs transform t.
    const counts = on.map((o) => {
      const c = new Array<number>(k).fill(0);
      if (!o || k === 0) return c;
      const pool = Array.from({ length: k }, (_, t) => t);
      for (let j = 0; j < this.n; j++) {
        const at = random.int(pool.length);
        c[pool[at]!]!++;
        if (!this.replace) pool.splice(at, 1);
      }
      return c;
    });
    let out = batch;
    this.transforms.forEach((t, ti) => {
      const most = Math.max(0, ...counts.map((c) => c[ti]!));
      for (let r = 1; r <= most; r++)
        out = runOn(
          t,
          out,
          random,
          counts.map((c) => c[ti]! >= r),
          false,
          this.name,
        );
    });
    return out;
  }
}
