// Samples -> one batch: stacks images and masks along a new first dimension (PyTorch's
// default_collate for our Sample shape). Runs torch ops, so it runs on the JS thread that owns
// the tensors, never on libuv's pool.
import { isTensor, torch, type Tensor } from '../torch/index.js';
import { invalidParameterError } from '../validate.js';
import type { Batch, Sample } from './dataset.js';

function describe(t: Tensor): string {
  return `${t.dtype} [${t.shape.join(', ')}]`;
}

function checkSample(where: string, s: unknown, i: number): Sample {
  const sample = s as Sample;
  if (typeof sample !== 'object' || sample === null || !isTensor(sample.image) || !isTensor(sample.mask))
    throw invalidParameterError(where, `samples[${i}]`, 'a sample { image: Tensor, mask: Tensor, meta }', s);
  if (sample.image.isDisposed || sample.mask.isDisposed)
    throw new Error(`${where}: samples[${i}] (${nameOf(sample, i)}) holds a disposed tensor; a sample can be collated once`);
  return sample;
}

function nameOf(s: Sample, i: number): string {
  return typeof s.meta?.name === 'string' ? `'${s.meta.name}'` : `#${i}`;
}

/** The first sample whose `key` differs from sample 0's in shape or dtype, as a message; null when all agree. */
function mismatch(samples: Sample[], key: 'image' | 'mask'): string | null {
  const first = samples[0]![key];
  for (let i = 1; i < samples.length; i++) {
    const t = samples[i]![key];
    if (t.dtype !== first.dtype || t.shape.length !== first.shape.length || t.shape.some((d, j) => d !== first.shape[j]))
      return (
        `${key}s must share shape and dtype to be stacked, got ${describe(first)} for sample ${nameOf(samples[0]!, 0)} ` +
        `and ${describe(t)} for sample ${nameOf(samples[i]!, i)} (resize or crop them to one size, or use batchSize 1)`
      );
  }
  return null;
}

/**
 * Stacks samples into a batch: image [N, ...image shape], mask [N, ...mask shape], meta in order.
 * Consumes the samples (their tensors are disposed, also when it throws); the caller owns the batch.
 */
export function defaultCollate(samples: readonly Sample[]): Batch {
  const where = 'defaultCollate';
  try {
    if (!Array.isArray(samples) || samples.length === 0)
      throw invalidParameterError(where, 'samples', 'a non-empty array of samples', samples);
    const checked = samples.map((s, i) => checkSample(where, s, i));
    const problem = mismatch(checked, 'image') ?? mismatch(checked, 'mask');
    if (problem) throw new RangeError(`${where}: ${problem}`);
    const image = torch.stack(checked.map((s) => s.image));
    let mask: Tensor;
    try {
      mask = torch.stack(checked.map((s) => s.mask));
    } catch (e) {
      image.dispose();
      throw e;
    }
    return { image, mask, meta: checked.map((s) => s.meta) };
  } finally {
    if (Array.isArray(samples)) for (const s of samples) disposeSample(s);
  }
}

/** Disposes whatever tensors a (possibly malformed) sample holds. */
export function disposeSample(s: unknown): void {
  if (typeof s !== 'object' || s === null) return;
  const { image, mask } = s as Partial<Sample>;
  if (isTensor(image)) image.dispose();
  if (isTensor(mask)) mask.dispose();
}
