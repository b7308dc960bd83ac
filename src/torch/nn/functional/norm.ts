// Normalisation. batchNorm updates runningMean/runningVar in place when training, as
// PyTorch does; the BatchNorm2d module counts num_batches_tracked.
import { native } from '../../native.js';
import type { Tensor } from '../../tensor.js';
import { aten, checkBool, checkInt, checkInts, checkNumber, checkOptionKeys, tid, tidOpt, wrap } from '../../ops/registry.js';

export interface BatchNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  training?: boolean;
  momentum?: number;
  eps?: number;
}

const BATCH_NORM = aten('batch_norm');
export function batchNorm(input: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, options?: BatchNormOptions): Tensor {
  const op = 'F.batchNorm';
  checkOptionKeys(op, options, ['weight', 'bias', 'training', 'momentum', 'eps']);
  const x = tid(input, op, 'input');
  const ids = [
    tidOpt(runningMean, op, 'runningMean'),
    tidOpt(runningVar, op, 'runningVar'),
    tidOpt(options?.weight, op, 'weight'),
    tidOpt(options?.bias, op, 'bias'),
  ];
  const training = checkBool(op, 'training', options?.training ?? false);
  if (!training && (runningMean == null || runningVar == null)) {
    throw new TypeError(`${op}: runningMean and runningVar are required when training is false`);
  }
  const s = input.shape;
  if (s.length < 2) throw new RangeError(`${op}: input must have at least 2 dimensions (N, C, ...), got shape [${s.join(', ')}]`);
  for (const [name, t] of [
    ['runningMean', runningMean],
    ['runningVar', runningVar],
    ['weight', options?.weight],
    ['bias', options?.bias],
  ] as const) {
    if (t != null && (t.shape.length !== 1 || t.shape[0] !== s[1])) {
      throw new RangeError(
        `${op}: ${name} must have shape [${s[1]}] (the channels of input [${s.join(', ')}]), got [${t.shape.join(', ')}]`,
      );
    }
  }
  return wrap(
    native.call(
      BATCH_NORM,
      x,
      ids[2],
      ids[3],
      ids[0],
      ids[1],
      training,
      checkNumber(op, 'momentum', options?.momentum ?? 0.1),
      checkNumber(op, 'eps', options?.eps ?? 1e-5),
      true,
    ),
  );
}

const GROUP_NORM = aten('group_norm');
export function groupNorm(
  input: Tensor,
  numGroups: number,
  options?: { weight?: Tensor | null; bias?: Tensor | null; eps?: number },
): Tensor {
  const op = 'F.groupNorm';
  checkOptionKeys(op, options, ['weight', 'bias', 'eps']);
  const x = tid(input, op, 'input');
  const g = checkInt(op, 'numGroups', numGroups);
  const c = input.shape[1];
  if (c === undefined || g < 1 || c % g !== 0) {
    throw new RangeError(`${op}: the channels of input [${input.shape.join(', ')}] must be divisible by numGroups=${numGroups}`);
  }
  const weight = options?.weight;
  // Under CPU autocast a convolution hands a bfloat16 map to a float32 GroupNorm, which libtorch
  // 1.13's kernel refuses (mixed types came in 2.x): normalise in float32, as autocast's fp32
  // policy would, and return float32.
  if (weight != null && weight.dtype === 'float32' && (input.dtype === 'bfloat16' || input.dtype === 'float16')) {
    const wide = input.float();
    try {
      return groupNorm(wide, numGroups, options);
    } finally {
      wide.dispose();
    }
  }
  return wrap(native.call(GROUP_NORM, x, g, tidOpt(weight, op, 'weight'), tidOpt(options?.bias, op, 'bias'), options?.eps ?? 1e-5, true));
}

const LAYER_NORM = aten('layer_norm');
export function layerNorm(
  input: Tensor,
  normalizedShape: number[],
  options?: { weight?: Tensor | null; bias?: Tensor | null; eps?: number },
): Tensor {
  const op = 'F.layerNorm';
  checkOptionKeys(op, options, ['weight', 'bias', 'eps']);
  return wrap(
    native.call(
      LAYER_NORM,
      tid(input, op, 'input'),
      checkInts(op, 'normalizedShape', normalizedShape),
      tidOpt(options?.weight, op, 'weight'),
      tidOpt(options?.bias, op, 'bias'),
      options?.eps ?? 1e-5,
      true,
    ),
  );
}

const INSTANCE_NORM = aten('instance_norm');
export function instanceNorm(
  input: Tensor,
  options?: {
    runningMean?: Tensor | null;
    runningVar?: Tensor | null;
    weight?: Tensor | null;
    bias?: Tensor | null;
    useInputStats?: boolean;
    momentum?: number;
    eps?: number;
  },
): Tensor {
  const op = 'F.instanceNorm';
  checkOptionKeys(op, options, ['runningMean', 'runningVar', 'weight', 'bias', 'useInputStats', 'momentum', 'eps']);
  return wrap(
    native.call(
      INSTANCE_NORM,
      tid(input, op, 'input'),
      tidOpt(options?.weight, op, 'weight'),
      tidOpt(options?.bias, op, 'bias'),
      tidOpt(options?.runningMean, op, 'runningMean'),
      tidOpt(options?.runningVar, op, 'runningVar'),
      options?.useInputStats ?? true,
      options?.momentum ?? 0.1,
      options?.eps ?? 1e-5,
      true,
    ),
  );
}
