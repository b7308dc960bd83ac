// Weighted sums of losses (the Tianchi baseline's 0.8 BCE + 0.2 Dice), which keep each part's
// value of the last call for a trainer's progress bar and logs.
import { tidy, type Tensor } from '../torch/index.js';
import type { Criterion } from '../models/base.js';
import { checkFinite, invalidParameterError, is, show } from '../validate.js';
import { Loss } from './loss.js';

/** One term of a weighted sum: `[weight, loss]`, or an object that can also name it. */
export type LossTerm = readonly [weight: number, loss: Loss | Criterion] | { weight: number; loss: Loss | Criterion; name?: string };

/** One part of the last forward of a WeightedSum: the unweighted value and its weight. */
export interface LossPart {
  name: string;
  weight: number;
  /** The part's own loss (before weighting) from the last forward; the mean for a non-scalar part. */
  value: number;
}

interface Term {
  name: string;
  weight: number;
  fn: Criterion;
}

const WHERE = 'losses.sum';

function readTerm(v: unknown, i: number): { name?: string; weight: unknown; loss: unknown } {
  if (Array.isArray(v) && v.length === 2) return { weight: v[0], loss: v[1] };
  if (is.object(v) && 'loss' in v) {
    const name = v.name;
    if (name !== undefined && !is.string(name)) throw invalidParameterError(WHERE, `terms[${i}].name`, 'a string', name);
    return { name, weight: v.weight, loss: v.loss };
  }
  throw invalidParameterError(WHERE, `terms[${i}]`, '[weight, loss] or { weight, loss, name? }', v);
}

/**
 * sum_i weight_i * loss_i(yPred, yTrue), a Loss itself. Each part's value is read as a number
 * on every forward, so `lastParts()` can feed a progress bar (`bce 0.412 dice 0.183`); the
 * parts that are Loss modules are registered children ('0', '1', ...), so `dispose()` frees
 * their buffers.
 */
export class WeightedSum extends Loss {
  private readonly terms: Term[];
  private parts: LossPart[] = [];

  constructor(terms: readonly LossTerm[]) {
    super();
    if (!Array.isArray(terms) || terms.length === 0)
      throw invalidParameterError(WHERE, 'terms', 'a non-empty array of [weight, loss]', terms);
    const seen = new Map<string, number>();
    this.terms = terms.map((raw, i) => {
      const { name, weight, loss } = readTerm(raw, i);
      const w = checkFinite(WHERE, `terms[${i}] weight`, weight);
      let fn: Criterion;
      let base: string;
      if (loss instanceof Loss) {
        this.registerModule(String(i), loss);
        fn = loss.criterion;
        base = loss.name;
      } else if (is.fn(loss)) {
        fn = loss as Criterion;
        base = loss.name || `term${i}`;
      } else {
        throw invalidParameterError(WHERE, `terms[${i}] loss`, 'a Loss or a function (prediction, target) => Tensor', loss);
      }
      const given = name ?? base;
      const count = (seen.get(given) ?? 0) + 1;
      seen.set(given, count);
      return { name: count > 1 ? `${given}#${count}` : given, weight: w, fn };
    });
  }

  /** The parts of the last forward (empty before the first). */
  lastParts(): LossPart[] {
    return this.parts.map((p) => ({ ...p }));
  }

  /** The total and its parts in one call. */
  forwardParts(yPred: Tensor, yTrue: Tensor): { loss: Tensor; parts: LossPart[] } {
    const loss = this.forward(yPred, yTrue);
    return { loss, parts: this.lastParts() };
  }

  protected compute(yPred: Tensor, yTrue: Tensor): Tensor {
    let total: Tensor | null = null;
    const parts: LossPart[] = [];
    for (const { name, weight, fn } of this.terms) {
      const value = fn(yPred, yTrue);
      if (!is.defined(value) || typeof (value as Tensor).mul !== 'function') {
        throw new TypeError(`${WHERE}: the loss ${show(name)} must return a Tensor, got ${show(value)}`);
      }
      // A part with reduction 'none' is logged as its mean.
      parts.push({ name, weight, value: tidy(() => (value.numel === 1 ? value.detach().item() : value.detach().mean().item())) });
      const weighted = value.mul(weight);
      total = total === null ? weighted : total.add(weighted);
    }
    this.parts = parts;
    return total!;
  }

  override extraRepr(): string {
    return this.terms.map((t) => `${t.weight} * ${t.name}`).join(' + ');
  }
}

/** `losses.sum([[0.8, bce], [0.2, dice]])`: a WeightedSum of the terms. */
export function sum(terms: readonly LossTerm[]): WeightedSum {
  return new WeightedSum(terms);
}
