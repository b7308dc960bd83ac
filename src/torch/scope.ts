// Explicit memory: tidy scopes free what was created inside them and not returned. The GC
// cannot see native memory, so finalizers are only a safety net for forgotten tensors.
import { native } from './native.js';
import { invalidParameterError } from '../validate.js';

/** What a scope needs to know about a tensor; implemented by Tensor. */
export interface Tracked {
  _id: number;
  _scope: Scope | null;
  _cell: Cell | null;
  dispose(): void;
}

export class Scope {
  tensors: Tracked[] = [];
  dead = 0;
  constructor(readonly name: string) {}

  /** Drops handles that were disposed or kept, so a long loop inside one tidy stays small. */
  noteGone(): void {
    if (++this.dead > 1024 && this.dead * 2 > this.tensors.length) {
      this.tensors = this.tensors.filter((t) => t._scope === this && t._id >= 0);
      this.dead = 0;
    }
  }
}

const stack: Scope[] = [];

/**
 * The safety net. Tensors inside a tidy scope are not registered: the scope holds them and
 * frees them. Tensors outside every scope wait in `pending` and are registered in batches, so
 * the common case (a tensor disposed soon after it is made) never pays for a registration,
 * which costs about as much as a small op. The held value is a cell that dispose() empties.
 */
export interface Cell {
  id: number;
}
const finalizer = new FinalizationRegistry<Cell>((cell) => {
  if (cell.id < 0) return;
  try {
    native.free(cell.id);
  } catch {
    // Already freed through another path: nothing left to do.
  }
});

const PENDING_BATCH = 1024;
let pending: Tracked[] = [];

function registerPending(): void {
  const batch = pending;
  pending = [];
  for (const t of batch) {
    if (t._id >= 0 && t._scope === null && t._cell === null) {
      t._cell = { id: t._id };
      finalizer.register(t, t._cell);
    }
  }
}

export function guard(t: Tracked): void {
  if (t._cell !== null) return;
  const n = pending.push(t);
  // Whatever is still pending when the current synchronous work ends is registered then.
  if (n === 1) setImmediate(registerPending).unref();
  else if (n >= PENDING_BATCH) registerPending();
}

export function track(t: Tracked): void {
  const s = stack[stack.length - 1];
  if (s !== undefined) {
    t._scope = s;
    s.tensors.push(t);
  } else {
    guard(t);
  }
}

/** Called by dispose(): the tensor leaves its scope and its finalizer has nothing left to do. */
export function untrack(t: Tracked): void {
  if (t._cell !== null) t._cell.id = -1;
  const s = t._scope;
  if (s !== null) {
    t._scope = null;
    s.noteGone();
  }
}

function collect(value: unknown, out: Set<unknown>, seen: Set<unknown>): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if ('_scope' in value && '_id' in value) {
    out.add(value);
  } else if (Array.isArray(value)) {
    for (const v of value) collect(v, out, seen);
  } else if (value instanceof Map) {
    for (const v of value.values()) collect(v, out, seen);
  } else {
    const proto = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) {
      for (const v of Object.values(value)) collect(v, out, seen);
    }
  }
}

/**
 * Runs `fn`, then disposes every tensor created inside it except those in its return value
 * (found in arrays, Maps and plain objects) and those passed to `keep`. Returned tensors move
 * to the enclosing scope. Tensors created outside, and gradients a backward accumulates, are
 * never touched. `fn` must be synchronous.
 */
export function tidy<T>(fn: () => T): T;
export function tidy<T>(name: string, fn: () => T): T;
export function tidy<T>(a: string | (() => T), b?: () => T): T {
  const name = typeof a === 'string' ? a : 'tidy';
  const fn = typeof a === 'function' ? a : b;
  if (typeof fn !== 'function')
    throw invalidParameterError('tidy', 'fn', 'a function (or a name and a function)', typeof a === 'string' ? b : a);
  const scope = new Scope(name);
  stack.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    stack.pop();
    release(scope, null);
    throw e;
  }
  stack.pop();
  if (result instanceof Promise) {
    release(scope, null);
    throw new TypeError(`${name}: the function must be synchronous; it returned a Promise (await outside tidy, or dispose by hand)`);
  }
  // Most tidies return nothing or one tensor: skip the traversal for those.
  let kept: Set<unknown> | null = null;
  if (result !== null && typeof result === 'object') {
    kept = new Set();
    if ('_scope' in result && '_id' in result) kept.add(result);
    else collect(result, kept, new Set());
  }
  release(scope, kept);
  return result;
}

function release(scope: Scope, returned: Set<unknown> | null): void {
  const parent = stack[stack.length - 1];
  for (const t of scope.tensors) {
    if (t._scope !== scope || t._id < 0) continue;
    if (returned?.has(t)) {
      t._scope = parent ?? null;
      if (parent) parent.tensors.push(t);
      else guard(t);
    } else {
      t.dispose();
    }
  }
  scope.tensors = [];
}

/** Exempts tensors from the enclosing tidy scopes; the caller disposes them. */
export function keep<T>(value: T): T {
  const found = new Set<unknown>();
  collect(value, found, new Set());
  for (const t of found as Set<Tracked>) {
    const s = t._scope;
    if (s !== null) {
      t._scope = null;
      s.noteGone();
      guard(t);
    }
  }
  return value;
}

/** Disposes every tensor found in a value (a tensor, an array, a Map or a plain object). */
export function dispose(value: unknown): void {
  const found = new Set<unknown>();
  collect(value, found, new Set());
  for (const t of found as Set<Tracked>) t.dispose();
}

/** Live native tensor handles in this thread: the number tests assert to return to its start. */
export function liveTensors(): number {
  return native.live();
}
