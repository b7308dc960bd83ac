// Containers whose children are named '0', '1', ... (Sequential, ModuleList) or by key
// (ModuleDict), giving PyTorch's state-dict keys for the same structure.
import { Module } from './module.js';
import { Tensor } from '../tensor.js';
import { tidy } from '../scope.js';
import { checkInt, show } from '../../validate.js';

/** Children named '0', '1', ...: what Sequential and ModuleList share. */
abstract class IndexedModules extends Module {
  constructor(modules: Module[]) {
    super();
    modules.forEach((m, i) => this.registerModule(String(i), m));
  }

  get length(): number {
    return this.namedChildren().length;
  }

  /** The i-th child (negative counts from the end). */
  at(i: number): Module {
    const list = this.children();
    const m = list[checkInt(`${this.constructor.name}.at`, 'index', i) < 0 ? list.length + i : i];
    if (!m) throw new RangeError(`${this.constructor.name}.at: index ${i} is out of range for ${list.length} modules`);
    return m;
  }

  push(...modules: Module[]): this {
    for (const m of modules) this.registerModule(String(this.namedChildren().length), m);
    return this;
  }

  [Symbol.iterator](): Iterator<Module> {
    return this.children()[Symbol.iterator]();
  }
}

/** Runs its children in order; forward(x) feeds each one's output to the next. */
export class Sequential extends IndexedModules {
  constructor(...modules: Module[]) {
    super(modules);
  }

  append(m: Module): this {
    return this.push(m);
  }

  /**
   * Each child runs in its own tidy scope, and a link of the chain is disposed as soon as the
   * next one exists (unless it was kept or is the input): a dead activation is freed at once,
   * as PyTorch's refcounting does, instead of when the enclosing scope ends.
   */
  forward(x: any): any {
    let cur = x;
    for (const m of this.children()) cur = chainLink(cur, (t) => m.forward(t), [x]);
    return cur;
  }
}

/**
 * One link of a hand-written chain (`x = m.forward(x)` in a loop, as an encoder walks its
 * stages): runs fn(prev) in its own tidy scope, then disposes prev unless it is still needed
 * (listed in `live`, returned, kept, or owned by no scope). JS has no refcounts, so without this
 * every activation of the chain would live until the enclosing scope ends.
 */
export function chainLink(prev: any, fn: (x: any) => any, live: readonly unknown[]): any {
  const cur = tidy(() => fn(prev));
  if (prev !== cur && prev instanceof Tensor && prev._scope !== null && !live.includes(prev)) prev.dispose();
  return cur;
}

/** A list of modules registered as children '0', '1', ...; it has no forward of its own. */
export class ModuleList extends IndexedModules {
  constructor(modules: Module[] = []) {
    super(modules);
  }

  forward(): never {
    throw new Error('ModuleList has no forward: iterate over it and call its modules');
  }
}

/** Modules by key, in insertion order. */
export class ModuleDict extends Module {
  constructor(modules: Record<string, Module> = {}) {
    super();
    for (const [k, m] of Object.entries(modules)) this.registerModule(k, m);
  }

  get(key: string): Module {
    const m = this.getModule(key);
    if (!m) throw new Error(`ModuleDict: no module ${show(key)} (keys: ${this.keys().join(', ')})`);
    return m;
  }

  set(key: string, m: Module): this {
    this.registerModule(key, m);
    return this;
  }

  has(key: string): boolean {
    return !!this.getModule(key);
  }

  keys(): string[] {
    return this.namedChildren().map(([k]) => k);
  }

  forward(): never {
    throw new Error('ModuleDict has no forward: pick a module with get(key)');
  }
}
