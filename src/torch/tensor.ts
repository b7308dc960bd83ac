// The Tensor handle. Its ops live in ops/ and are attached as methods by methods.ts; this file
// holds what every tensor is: an id into the native slot table plus cached metadata.
import { inspect } from 'node:util';
import { native } from './native.js';
import { dtypeFromCode, memoryFormatCode, viewAs, type DType, type MemoryFormat, type TypedArray } from './dtype.js';
import { guard, track, untrack, type Cell, type Scope } from './scope.js';
import { formatTensor } from './format.js';
import { checkBool, checkInt, invalidParameterError, readOptions } from '../validate.js';

export class Tensor {
  /** @internal native slot id; -1 once disposed. */
  _id: number;
  /** @internal */
  _scope: Scope | null = null;
  /** @internal the finalizer's cell, for tensors outside every tidy scope. */
  _cell: Cell | null = null;
  /** @internal */
  _shape: readonly number[] | undefined = undefined;
  /** @internal */
  _dtype: DType | undefined = undefined;
  /** @internal the JS handle of `.grad`, owned by this tensor (never by a tidy scope). */
  _grad: Tensor | null = null;

  /** @internal Use the factory functions (`torch.tensor`, `torch.zeros`, ...). */
  constructor(id: number, tracked = true) {
    this._id = id;
    if (tracked) track(this);
    else guard(this);
  }

  /** The native handle; throws once the tensor is disposed. */
  get id(): number {
    if (this._id < 0) throw new Error('Tensor was disposed: it cannot be used any more');
    return this._id;
  }

  get isDisposed(): boolean {
    return this._id < 0;
  }

  get shape(): readonly number[] {
    return (this._shape ??= Object.freeze(native.shape(this.id)));
  }

  get dtype(): DType {
    return (this._dtype ??= dtypeFromCode(native.dtype(this.id)));
  }

  get device(): string {
    return native.device(this.id);
  }

  get ndim(): number {
    return this.shape.length;
  }

  dim(): number {
    return this.shape.length;
  }

  get numel(): number {
    let n = 1;
    for (const s of this.shape) n *= s;
    return n;
  }

  /** The size of one dimension (negative counts from the end), or the whole shape. */
  size(): readonly number[];
  size(dim: number): number;
  size(dim?: number): number | readonly number[] {
    const shape = this.shape;
    if (dim === undefined) return shape;
    const d = normDim(dim, shape.length, 'size');
    return shape[d]!;
  }

  stride(): number[] {
    return native.strides(this.id);
  }

  isContiguous(options?: { memoryFormat?: MemoryFormat }): boolean {
    const format = readOptions('isContiguous', options, ['memoryFormat']).values.memoryFormat ?? 'contiguous';
    return native.isContiguous(this.id, memoryFormatCode(format, 'isContiguous'));
  }

  /** The value of a one-element tensor as a number (bool gives 0 or 1; int64 beyond 2^53 rounds). */
  item(): number {
    return native.item(this.id);
  }

  /**
   * A copy of the values, row-major: Float32Array for float32/float16/bfloat16, Float64Array,
   * BigInt64Array for int64, Int32Array, Int16Array, Int8Array, Uint8Array for uint8 and bool.
   */
  toArray(): TypedArray {
    return viewAs(this.dtype, native.toBuffer(this.id));
  }

  /** Same as toArray(), the name tfjs users look for. */
  data(): TypedArray {
    return this.toArray();
  }

  /** Nested JS arrays of numbers (or booleans for bool), like PyTorch's `tolist()`. */
  tolist(): unknown {
    const flat = this.toArray();
    const shape = this.shape;
    const isBool = this.dtype === 'bool';
    let i = 0;
    const build = (d: number): unknown => {
      if (d === shape.length) {
        const v = flat[i++]!;
        return isBool ? v !== 0 : Number(v);
      }
      return Array.from({ length: shape[d]! }, () => build(d + 1));
    };
    return build(0);
  }

  get requiresGrad(): boolean {
    return native.requiresGrad(this.id);
  }

  set requiresGrad(flag: boolean) {
    this.requiresGrad_(flag);
  }

  /** Sets requires_grad in place and returns this tensor. */
  requiresGrad_(flag = true): this {
    native.setRequiresGrad(this.id, checkBool('requiresGrad_', 'flag', flag));
    return this;
  }

  get isLeaf(): boolean {
    return native.isLeaf(this.id);
  }

  /** The name of the autograd node that made this tensor (`AddBackward0`), or null. */
  get gradFn(): string | null {
    return native.gradFn(this.id);
  }

  /**
   * The accumulated gradient, or null before any backward. Reads return the same handle while
   * libtorch keeps accumulating into the same tensor; the handle belongs to this tensor and is
   * disposed with it, so tidy never frees it.
   */
  get grad(): Tensor | null {
    const cached = this._grad;
    const id = native.grad(this.id, cached === null ? -1 : cached._id);
    if (id === null) {
      if (cached !== null) this.dropGradHandle();
      return null;
    }
    if (cached !== null && id === cached._id) return cached;
    if (cached !== null) this.dropGradHandle();
    this._grad = new Tensor(id, false);
    return this._grad;
  }

  set grad(value: Tensor | null) {
    if (value !== null && !(value instanceof Tensor)) throw invalidParameterError('grad', 'value', 'a Tensor or null', value);
    native.setGrad(this.id, value === null ? -1 : value.id);
    if (this._grad !== null) this.dropGradHandle();
  }

  private dropGradHandle(): void {
    const g = this._grad!;
    this._grad = null;
    g.dispose();
  }

  /**
   * Computes gradients of this tensor with respect to the graph leaves. A non-scalar tensor
   * needs `gradient` of its shape.
   */
  backward(gradient?: Tensor | null, options?: BackwardOptions): void {
    if (gradient != null && !(gradient instanceof Tensor)) throw invalidParameterError('backward', 'gradient', 'a Tensor', gradient);
    if (gradient?.isDisposed) throw new Error('backward: gradient is a disposed Tensor');
    const [retainGraph, createGraph] = backwardOptions('backward', options);
    native.backward([this.id], gradient == null ? null : [gradient.id], retainGraph, createGraph);
  }

  /**
   * PyTorch's `t.data = src`: this tensor (and every reference to it) now holds src's values,
   * dtype and device, keeping its identity and autograd leaf status. src is not consumed.
   */
  setData(src: Tensor): this {
    if (!(src instanceof Tensor)) throw invalidParameterError('setData', 'src', 'a Tensor', src);
    native.setData(this.id, src.id);
    this._shape = undefined;
    this._dtype = undefined;
    return this;
  }

  /** Frees the native memory now. Safe to call twice. */
  dispose(): void {
    const id = this._id;
    if (id < 0) return;
    if (this._grad !== null) this.dropGradHandle();
    untrack(this);
    this._id = -1;
    native.free(id);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  toString(): string {
    if (this._id < 0) return 'tensor(<disposed>)';
    return formatTensor(this);
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

export interface BackwardOptions {
  retainGraph?: boolean | null;
  createGraph?: boolean;
}

/** [retainGraph, createGraph] of a backward call; retainGraph null (the default) means createGraph's value. */
export function backwardOptions(where: string, options: BackwardOptions | undefined): [boolean | null, boolean] {
  const o = readOptions(where, options, ['retainGraph', 'createGraph']);
  return [o.get('retainGraph') == null ? null : o.bool('retainGraph'), o.bool('createGraph', false)];
}

/** Normalises a possibly negative dimension index, with PyTorch's error text. */
export function normDim(dim: number, ndim: number, where: string): number {
  checkInt(where, 'dim', dim);
  const n = Math.max(ndim, 1);
  if (dim < -n || dim >= n) {
    throw new RangeError(`${where}: dim ${dim} is out of range for a tensor of ${ndim} dimensions (expected -${n}..${n - 1})`);
  }
  return dim < 0 ? dim + n : dim;
}

export function isTensor(x: unknown): x is Tensor {
  return x instanceof Tensor;
}
