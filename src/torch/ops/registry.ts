// Op handles and argument checks shared by every op wrapper. Handles are resolved once, at
// import, so a call costs one native crossing.
import { native, type OpInfo } from '../native.js';
import { Tensor } from '../tensor.js';

/** Resolves `aten::name.overload` to a native handle; throws if libtorch has no such op. */
export function aten(name: string, overload = ''): number {
  const h = native.op(name.includes('::') ? name : `aten::${name}`, overload);
  if (h < 0) {
    throw new Error(`libtorch has no operator ${name}${overload ? '.' + overload : ''} (libtorch ${native.info().version})`);
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

function describeValue(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  if (x instanceof Tensor) return x.isDisposed ? 'a disposed Tensor' : `a Tensor`;
  return typeof x === 'object' ? (x.constructor?.name ?? 'object') : `${typeof x} ${String(x)}`;
}

/** The handle of a tensor argument, or a TypeError naming the op and the argument. */
export function tid(x: unknown, op: string, arg: string): number {
  if (x instanceof Tensor && x._id >= 0) return x._id;
  if (x instanceof Tensor) throw new Error(`${op}: argument '${arg}' is a disposed Tensor`);
  throw new TypeError(`${op}: argument '${arg}' expected a Tensor, got ${describeValue(x)}`);
}

/** Optional tensor argument: null/undefined pass through. */
export function tidOpt(x: unknown, op: string, arg: string): number | null {
  return x == null ? null : tid(x, op, arg);
}

export function tids(xs: unknown, op: string, arg: string): number[] {
  if (!Array.isArray(xs)) throw new TypeError(`${op}: argument '${arg}' expected an array of Tensors, got ${describeValue(xs)}`);
  return xs.map((x, i) => tid(x, op, `${arg}[${i}]`));
}

export function checkNumber(x: unknown, op: string, arg: string): number {
  if (typeof x !== 'number') {
    throw new TypeError(`${op}: argument '${arg}' expected a number, got ${describeValue(x)}`);
  }
  return x;
}

export function checkInt(x: unknown, op: string, arg: string): number {
  if (typeof x !== 'number' || !Number.isInteger(x)) {
    throw new TypeError(`${op}: argument '${arg}' expected an integer, got ${describeValue(x)}`);
  }
  return x;
}

export function checkBool(x: unknown, op: string, arg: string): boolean {
  if (typeof x !== 'boolean') throw new TypeError(`${op}: argument '${arg}' expected a boolean, got ${describeValue(x)}`);
  return x;
}

/** An int list argument; a single int is accepted where PyTorch repeats it (`kernelSize: 3`). */
export function checkInts(x: unknown, op: string, arg: string, repeat?: number): number[] {
  if (typeof x === 'number' && Number.isInteger(x) && repeat !== undefined) return new Array<number>(repeat).fill(x);
  if (!Array.isArray(x) || !x.every((v) => typeof v === 'number' && Number.isInteger(v))) {
    const what = repeat !== undefined ? `an integer or an array of ${repeat} integers` : 'an array of integers';
    throw new TypeError(`${op}: argument '${arg}' expected ${what}, got ${describeValue(x)}${Array.isArray(x) ? ` [${x.join(', ')}]` : ''}`);
  }
  if (repeat !== undefined && x.length !== repeat && x.length !== 1) {
    throw new RangeError(`${op}: argument '${arg}' expected ${repeat} integers, got ${x.length} ([${x.join(', ')}])`);
  }
  return repeat !== undefined && x.length === 1 ? new Array<number>(repeat).fill(x[0]) : x;
}

/** Rejects option keys the op does not know, so a typo (`keepDim`) is not silently ignored. */
export function checkOptions(options: unknown, allowed: readonly string[], op: string): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${op}: options must be an object, got ${describeValue(options)}`);
  }
  for (const k of Object.keys(options)) {
    if (!allowed.includes(k)) {
      throw new TypeError(`${op}: unknown option '${k}' (known: ${allowed.join(', ') || 'none'})`);
    }
  }
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
