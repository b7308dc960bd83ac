// Op handles and argument checks shared by every op wrapper. Handles are resolved once, at
// import, so a call costs one native crossing.
import { native, type OpInfo } from '../native.js';
import { Tensor } from '../tensor.js';
import * as v from '../../validate.js';

/** Resolves `aten::name.overload` to a native handle; throws if libtorch has no such op. */
export function aten(name: string, overload = ''): number {
  const h = native.op(name.includes('::') ? name : `aten::${name}`, overload);
  if (h < 0) {
    throw new Error(`libtorch has no operator ${name}${overload ? `.${overload}` : ''} (libtorch ${native.info().version})`);
  }
  return h;
}

/** Like aten(), but returns -1 when the op is missing in this libtorch version. */
export function atenOptional(name: string, overload = ''): number {
  return native.op(name.includes('::') ? name : `aten::${name}`, overload);
}

export function wrap(id: number): Tensor {
  return new Tensor(id);
}

export function wrapAll(ids: number[]): Tensor[] {
  return ids.map((id) => new Tensor(id));
}

// Argument checks on the hot path: each op call runs several, so a success costs one typeof (or
// Number.isInteger) test and allocates nothing. A failure is handed to validate.ts's check of the
// same name, which throws, so wording and error class (TypeError for a wrong kind, RangeError
// for a number out of range) are the ones the whole package uses.

/** The handle of a tensor argument; TypeError for anything else, Error for a disposed Tensor. */
export function tid(x: unknown, op: string, arg: string): number {
  if (x instanceof Tensor && x._id >= 0) return x._id;
  if (x instanceof Tensor) throw new Error(`${op}: ${arg} is a disposed Tensor`);
  throw v.invalidParameterError(op, arg, 'a Tensor', x);
}

/** Optional tensor argument: null/undefined pass through. */
export function tidOpt(x: unknown, op: string, arg: string): number | null {
  return x == null ? null : tid(x, op, arg);
}

/** The handles of an array of tensors; an element's error names it `arg[i]`. */
export function tids(xs: unknown, op: string, arg: string): number[] {
  if (!Array.isArray(xs)) throw v.invalidParameterError(op, arg, 'an array of Tensors', xs);
  const out = new Array<number>(xs.length);
  for (let i = 0; i < xs.length; i++) {
    const x: unknown = xs[i];
    out[i] = x instanceof Tensor && x._id >= 0 ? x._id : tid(x, op, `${arg}[${i}]`);
  }
  return out;
}

/** A number; NaN and infinities pass (an op's scalar may be one: `fill_(NaN)`), unlike validate's checkNumber. */
export function checkNumber(op: string, arg: string, x: unknown): number {
  return typeof x === 'number' ? x : v.checkNumber(op, arg, x);
}

export function checkInt(op: string, arg: string, x: unknown): number {
  return Number.isInteger(x) ? (x as number) : v.checkInt(op, arg, x);
}

export function checkBool(op: string, arg: string, x: unknown): boolean {
  return typeof x === 'boolean' ? x : v.checkBool(op, arg, x);
}

function isIntArray(x: unknown): x is number[] {
  if (!Array.isArray(x)) return false;
  for (let i = 0; i < x.length; i++) if (!Number.isInteger(x[i])) return false;
  return true;
}

/**
 * An int list argument (empty allowed: the shape of a 0-d tensor). With `repeat`, a single int or
 * a one-element list is repeated that many times, as PyTorch does for `kernelSize: 3`.
 */
export function checkInts(op: string, arg: string, x: unknown, repeat?: number): number[] {
  if (repeat === undefined) return isIntArray(x) ? x : v.checkIntList(op, arg, x, { nonEmpty: false });
  if (Number.isInteger(x)) return new Array<number>(repeat).fill(x as number);
  if (isIntArray(x) && (x.length === repeat || x.length === 1)) return x.length === repeat ? x : new Array<number>(repeat).fill(x[0]!);
  return v.checkIntList(op, arg, x, { length: repeat, scalar: true });
}

/** A probability (dropout's p, label smoothing): a number from 0 to 1. */
export function checkProbability(op: string, arg: string, x: unknown): number {
  return typeof x === 'number' && x >= 0 && x <= 1 ? x : v.checkNumber(op, arg, x, { min: 0, max: 1 });
}

/** PyTorch's `int | int[]` (`dim`, `dims`, `shifts`): one integer becomes a one-element list. */
export function checkIntOrInts(op: string, arg: string, x: unknown): number[] {
  if (Number.isInteger(x)) return [x as number];
  return isIntArray(x) ? x : v.checkIntList(op, arg, x, { scalar: true, nonEmpty: false });
}

/** A device name ('cpu', 'cuda', 'cuda:1'); an Error naming the op when this build has no CUDA. */
export function checkDevice(op: string, device: unknown): string {
  const d = v.checkString(op, 'device', device, "a device name like 'cpu' or 'cuda:0'");
  if (d.startsWith('cuda') && !native.info().cuda) {
    throw new Error(`${op}: device ${v.show(d)} requested but this libtorch build has no CUDA (see \`segkit info\`)`);
  }
  return d;
}

/**
 * validate.ts's checkOptions for op calls, whose options objects are read on every call: keys
 * are checked without allocating, and anything suspect goes to checkOptions, which throws.
 */
export function checkOptionKeys(op: string, options: object | undefined, known: readonly string[]): void {
  if (options === undefined) return;
  if (typeof options === 'object' && options !== null && !Array.isArray(options)) {
    let ok = true;
    for (const k in options) {
      if (!known.includes(k) && (options as Record<string, unknown>)[k] !== undefined) {
        ok = false;
        break;
      }
    }
    if (ok) return;
  }
  v.checkOptions(op, options, known);
}

/** Wraps whatever the dispatcher returned using the schema's return types. */
export function wrapReturn(info: OpInfo, out: unknown): unknown {
  const one = (type: string, v: unknown): unknown => {
    if (v === null || v === undefined) return null;
    if (type === 'Tensor' || type === 'Tensor?') return wrap(v as number);
    if (type === 'Tensor[]') return wrapAll(v as number[]);
    return v;
  };
  if (info.returns.length === 0) return undefined;
  if (info.returns.length === 1) return one(info.returns[0]!, out);
  return info.returns.map((t, i) => one(t, (out as unknown[])[i]));
}
