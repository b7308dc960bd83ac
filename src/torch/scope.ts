// Explicit memory: tidy scopes free what was created inside them and not returned. The GC
// cannot see native memory, so finalizers are only a safety net for forgotten tensors.
import { native } from './native.js';

/** What a scope needs to know about a tensor; implemented by Tensor. */
export interface Tracked {
  _id: number;
  _scope: Scope | null;
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

export const finalizer = new FinalizationRegistry<number>((id) => {
  try {
    native.free(id);
  } catch {
    // Already freed through another path: nothing left to do.
  }
});

export function track(t: Tracked): void {
  finalizer.register(t, t._id, t);
  const s = stack[stack.length - 1];
  if (s !== undefined) {
    t._scope = s;
    s.tensors.push(t);
  }
}

export function untrack(t: Tracked): void {
  finalizer.unregister(t);
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
  if (typeof fn !== 'function') {
    throw new TypeError(`tidy: expected a function (or a name and a function), got ${typeof fn}`);
  }
  const scope = new Scope(name);
  stack.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    stack.pop();
    release(scope, new Set());
    throw e;
  }
  stack.pop();
  if (result instanceof Promise) {
    release(scope, new Set());
    throw new TypeError(`${name}: the function must be synchronous; it returned a Promise (await outside tidy, or dispose by hand)`);
  }
  const kept = new Set<unknown>();
  collect(result, kept, new Set());
  release(scope, kept);
  return result;
}

function release(scope: Scope, returned: Set<unknown>): void {
  const parent = stack[stack.length - 1];
  for (const t of scope.tensors) {
    if (t._scope !== scope || t._id < 0) continue;
    if (returned.has(t)) {
      t._scope = parent ?? null;
      parent?.tensors.push(t);
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
