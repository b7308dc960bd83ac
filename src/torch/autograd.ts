// Grad-mode scopes. libtorch keeps these switches per thread, and our ops run on the calling
// JS thread, so a scope covers exactly the synchronous work inside `fn`.
import { native } from './native.js';
import { Tensor } from './tensor.js';
import { dtypeCode, type DType } from './dtype.js';

function checkFn(fn: unknown, where: string): void {
  if (typeof fn !== 'function') throw new TypeError(`${where}: expected a function, got ${typeof fn}`);
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
export function backward(tensors: Tensor[], gradTensors?: (Tensor | null)[] | null,
  options: { retainGraph?: boolean; createGraph?: boolean } = {}): void {
  if (!Array.isArray(tensors) || !tensors.every((t) => t instanceof Tensor)) {
    throw new TypeError('autograd.backward: tensors must be an array of Tensors');
  }
  if (gradTensors != null && gradTensors.length !== tensors.length) {
    throw new RangeError(`autograd.backward: got ${tensors.length} tensors but ${gradTensors.length} gradients`);
  }
  const grads = gradTensors == null ? null : gradTensors.map((g, i) => {
    if (g != null && !(g instanceof Tensor)) throw new TypeError(`autograd.backward: gradTensors[${i}] must be a Tensor or null`);
    if (g != null && g.isDisposed) throw new Error(`autograd.backward: gradTensors[${i}] is a disposed Tensor`);
    return g == null ? null : g.id;
  });
  native.backward(tensors.map((t, i) => {
    if (t.isDisposed) throw new Error(`autograd.backward: tensors[${i}] is a disposed Tensor`);
    return t.id;
  }), grads,
    options.retainGraph ?? null, options.createGraph ?? false);
}

export interface AutocastOptions { deviceType?: 'cpu' | 'cuda'; dtype?: DType; enabled?: boolean }

/**
 * Mixed precision as torch.autocast: inside fn, ops that benefit (convolutions, matmuls) run in
 * `dtype` (CPU default bfloat16, CUDA float16) while reductions and losses stay float32, and
 * float32 master weights are cast on the fly. Gradients flow back to the float32 weights.
 */
export function autocast<T>(options: AutocastOptions, fn: () => T): T {
  checkFn(fn, 'autocast');
  if (options === null || typeof options !== 'object') throw new TypeError('autocast: options must be an object like { dtype: \'bfloat16\' }');
  for (const k of Object.keys(options)) {
    if (!['deviceType', 'dtype', 'enabled'].includes(k)) throw new TypeError(`autocast: unknown option '${k}' (known: deviceType, dtype, enabled)`);
  }
  const device = options.deviceType ?? 'cpu';
  if (device !== 'cpu' && device !== 'cuda') throw new TypeError(`autocast: deviceType must be 'cpu' or 'cuda', got ${JSON.stringify(device)}`);
  const dtype = options.dtype ?? (device === 'cpu' ? 'bfloat16' : 'float16');
  if (device === 'cpu' && dtype !== 'bfloat16') {
    throw new TypeError(`autocast: on the CPU only bfloat16 is supported (as in PyTorch), got ${dtype}`);
  }
  if (device === 'cuda' && dtype !== 'float16' && dtype !== 'bfloat16') {
    throw new TypeError(`autocast: on CUDA dtype must be float16 or bfloat16, got ${dtype}`);
  }
  return syncOnly(native.withAutocast(device, options.enabled ?? true, dtypeCode(dtype, 'autocast'), fn), 'autocast');
}

export function isAutocastEnabled(deviceType: 'cpu' | 'cuda' = 'cpu'): boolean {
  return native.isAutocastEnabled(deviceType);
}
