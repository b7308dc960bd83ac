// Grad-mode scopes. libtorch keeps these switches per thread, and our ops run on the calling
// JS thread, so a scope covers exactly the synchronous work inside `fn`.
import { native } from './native.js';
import { backwardOptions, type BackwardOptions, type Tensor } from './tensor.js';
import { dtypeCode, type DType } from './dtype.js';
import { invalidParameterError, readOptions } from '../validate.js';
import { tid, tids } from './ops/registry.js';

function checkFn(fn: unknown, where: string): void {
  if (typeof fn !== 'function') throw invalidParameterError(where, 'fn', 'a function', fn);
}

function syncOnly<T>(value: T, where: string): T {
  if (value instanceof Promise) {
    throw new TypeError(`${where}: the function must be synchronous (grad mode is not kept across await); it returned a Promise`);
  }
  return value;
}

/** Runs fn without recording autograd history; returns fn's value. */
export function noGrad<T>(fn: () => T): T {
  checkFn(fn, 'noGrad');
  return syncOnly(native.withGradMode(false, fn), 'noGrad');
}

/** Runs fn with autograd recording on, even inside noGrad. */
export function enableGrad<T>(fn: () => T): T {
  checkFn(fn, 'enableGrad');
  return syncOnly(native.withGradMode(true, fn), 'enableGrad');
}

/** Like noGrad but faster: tensors made inside can never enter autograd later. */
export function inferenceMode<T>(fn: () => T): T {
  checkFn(fn, 'inferenceMode');
  return syncOnly(native.withInferenceMode(true, fn), 'inferenceMode');
}

export function isGradEnabled(): boolean {
  return native.isGradEnabled();
}

export function isInferenceModeEnabled(): boolean {
  return native.isInferenceMode();
}

/** Backward through several outputs at once (torch.autograd.backward). */
export function backward(tensors: Tensor[], gradTensors?: (Tensor | null)[] | null, options?: BackwardOptions): void {
  const where = 'autograd.backward';
  if (!Array.isArray(tensors)) throw invalidParameterError(where, 'tensors', 'an array of Tensors', tensors);
  if (gradTensors != null && !Array.isArray(gradTensors))
    throw invalidParameterError(where, 'gradTensors', 'an array of Tensors or nulls', gradTensors);
  if (gradTensors != null && gradTensors.length !== tensors.length) {
    throw new RangeError(`${where}: got ${tensors.length} tensors but ${gradTensors.length} gradients`);
  }
  const [retainGraph, createGraph] = backwardOptions(where, options);
  const grads = gradTensors == null ? null : gradTensors.map((g, i) => (g == null ? null : tid(g, where, `gradTensors[${i}]`)));
  native.backward(tids(tensors, where, 'tensors'), grads, retainGraph, createGraph);
}

const AUTOCAST_DEVICES = ['cpu', 'cuda'] as const;

export interface AutocastOptions {
  deviceType?: 'cpu' | 'cuda';
  dtype?: DType;
  enabled?: boolean;
}

/**
 * Mixed precision as torch.autocast: inside fn, ops that benefit (convolutions, matmuls) run in
 * `dtype` (CPU default bfloat16, CUDA float16) while reductions and losses stay float32, and
 * float32 master weights are cast on the fly. Gradients flow back to the float32 weights.
 */
export function autocast<T>(options: AutocastOptions, fn: () => T): T {
  checkFn(fn, 'autocast');
  if (options === undefined) throw invalidParameterError('autocast', 'options', "an object like { dtype: 'bfloat16' }", options);
  const o = readOptions('autocast', options, ['deviceType', 'dtype', 'enabled']);
  const device = o.choice('deviceType', AUTOCAST_DEVICES, 'cpu');
  const enabled = o.bool('enabled', true);
  const dtype = options.dtype ?? (device === 'cpu' ? 'bfloat16' : 'float16');
  if (device === 'cpu' && dtype !== 'bfloat16')
    throw invalidParameterError('autocast', 'dtype', "'bfloat16' on the CPU (as in PyTorch)", dtype);
  if (device === 'cuda' && dtype !== 'float16' && dtype !== 'bfloat16') {
    throw invalidParameterError('autocast', 'dtype', "'float16' or 'bfloat16' on CUDA", dtype);
  }
  return syncOnly(native.withAutocast(device, enabled, dtypeCode(dtype, 'autocast'), fn), 'autocast');
}

export function isAutocastEnabled(deviceType: 'cpu' | 'cuda' = 'cpu'): boolean {
  return native.isAutocastEnabled(deviceType);
}
