// The Module base: parameters, buffers and children registered by name in PyTorch's order, so
// state-dict keys (`encoder.layer1.0.conv1.weight`) come out exactly as PyTorch builds them.
// JS has no __setattr__, so registration is explicit and returns the value:
//   this.runningMean = this.registerBuffer('running_mean', torch.zeros([n]));
import { Tensor } from '../tensor.js';
import { keep, tidy } from '../scope.js';
import { noGrad } from '../autograd.js';
import type { MemoryFormat, DType } from '../dtype.js';
import { checkBool, invalidParameterError, is, readOptions, show } from '../../validate.js';

export type StateDict = Record<string, Tensor>;

export interface LoadResult {
  missingKeys: string[];
  unexpectedKeys: string[];
  /** Keys whose shapes differ; they were skipped (a non-strict load), unlike PyTorch, which throws. */
  mismatchedKeys: { key: string; expected: number[]; received: number[] }[];
}

const NAME = /^[A-Za-z0-9_]+$/;

export abstract class Module {
  /** Training mode (BatchNorm batch statistics, dropout); switch with train()/eval(). */
  training = true;
  private readonly _parameters = new Map<string, Tensor | null>();
  private readonly _buffers = new Map<string, Tensor | null>();
  private readonly _nonPersistent = new Set<string>();
  private readonly _modules = new Map<string, Module | null>();

  abstract forward(...args: any[]): any;

  private checkName(kind: string, name: string): void {
    if (typeof name !== 'string' || !NAME.test(name)) {
      throw invalidParameterError(`${this.constructor.name}.${kind}`, 'name', 'letters, digits or _ (no dots)', name);
    }
    for (const [k, m] of [
      ['parameter', this._parameters],
      ['buffer', this._buffers],
      ['module', this._modules],
    ] as const) {
      if (k !== kind.replace('register', '').toLowerCase() && m.has(name)) {
        throw new Error(`${this.constructor.name}.${kind}: ${show(name)} is already a ${k}`);
      }
    }
  }

  /** Registers a parameter (requiresGrad is switched on); null registers an absent one (bias: false). */
  registerParameter<T extends Tensor | null>(name: string, tensor: T): T {
    this.checkName('registerParameter', name);
    if (tensor !== null && !(tensor instanceof Tensor)) {
      throw invalidParameterError(`${this.constructor.name}.registerParameter`, name, 'a Tensor or null', tensor);
    }
    if (tensor !== null) {
      keep(tensor);
      if (!tensor.requiresGrad) tensor.requiresGrad_(true);
    }
    this._parameters.set(name, tensor);
    return tensor;
  }

  /** Registers state that is not trained (running statistics); non-persistent ones stay out of stateDict. */
  registerBuffer<T extends Tensor | null>(name: string, tensor: T, options?: { persistent?: boolean }): T {
    const persistent = readOptions(`${this.constructor.name}.registerBuffer`, options, ['persistent']).bool('persistent', true);
    this.checkName('registerBuffer', name);
    if (tensor !== null && !(tensor instanceof Tensor)) {
      throw invalidParameterError(`${this.constructor.name}.registerBuffer`, name, 'a Tensor or null', tensor);
    }
    if (tensor !== null) keep(tensor);
    this._buffers.set(name, tensor);
    if (!persistent) this._nonPersistent.add(name);
    else this._nonPersistent.delete(name);
    return tensor;
  }

  /** Registers a child module under the name its state-dict keys will carry. */
  registerModule<M extends Module | null>(name: string, module: M): M {
    this.checkName('registerModule', name);
    if (module !== null && !(module instanceof Module)) {
      throw invalidParameterError(`${this.constructor.name}.registerModule`, name, 'a Module or null', module);
    }
    this._modules.set(name, module);
    if (module !== null) scopeForward(module);
    return module;
  }

  /**
   * Replaces a registered parameter or buffer tensor (the old one is disposed unless
   * `dispose: false`). A field that cached the old tensor still points at it: modules whose
   * tensors get replaced read them through getParameter/getBuffer (or getters) instead.
   */
  setTensor(name: string, tensor: Tensor, options?: { dispose?: boolean }): void {
    const disposeOld = readOptions(`${this.constructor.name}.setTensor`, options, ['dispose']).bool('dispose', true);
    const map = this._parameters.has(name) ? this._parameters : this._buffers.has(name) ? this._buffers : null;
    if (map === null) throw new Error(`${this.constructor.name}.setTensor: no parameter or buffer ${show(name)}`);
    const old = map.get(name);
    keep(tensor);
    if (map === this._parameters && !tensor.requiresGrad) tensor.requiresGrad_(true);
    map.set(name, tensor);
    if (old && old !== tensor && disposeOld) old.dispose();
  }

  getParameter(name: string): Tensor | null | undefined {
    return this._parameters.get(name);
  }

  getBuffer(name: string): Tensor | null | undefined {
    return this._buffers.get(name);
  }

  getModule(name: string): Module | null | undefined {
    return this._modules.get(name);
  }

  /** Direct children with their names. */
  namedChildren(): [string, Module][] {
    return [...this._modules].filter((e): e is [string, Module] => e[1] !== null);
  }

  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module and every descendant, depth first, with dotted names ('' for this one). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [];
    const seen = new Set<Module>();
    const walk = (m: Module, p: string): void => {
      if (seen.has(m)) return;
      seen.add(m);
      out.push([p, m]);
      for (const [n, c] of m.namedChildren()) walk(c, p ? `${p}.${n}` : n);
    };
    walk(this, prefix);
    return out;
  }

  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** Parameters with their dotted names, each shared tensor once, in PyTorch's order. */
  namedParameters(options?: { prefix?: string; recurse?: boolean }): [string, Tensor][] {
    return this.namedTensors('_parameters', 'namedParameters', options);
  }

  parameters(options?: { recurse?: boolean }): Tensor[] {
    return this.namedParameters(options).map(([, t]) => t);
  }

  namedBuffers(options?: { prefix?: string; recurse?: boolean }): [string, Tensor][] {
    return this.namedTensors('_buffers', 'namedBuffers', options);
  }

  buffers(options?: { recurse?: boolean }): Tensor[] {
    return this.namedBuffers(options).map(([, t]) => t);
  }

  private namedTensors(
    kind: '_parameters' | '_buffers',
    method: string,
    options: { prefix?: string; recurse?: boolean } | undefined,
  ): [string, Tensor][] {
    const o = readOptions(`${this.constructor.name}.${method}`, options, ['prefix', 'recurse']);
    const prefix = o.string('prefix', '');
    const recurse = o.bool('recurse', true);
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    const modules: [string, Module][] = recurse ? this.namedModules(prefix) : [[prefix, this]];
    for (const [p, m] of modules) {
      for (const [n, t] of m[kind]) {
        if (t === null || seen.has(t)) continue;
        seen.add(t);
        out.push([p ? `${p}.${n}` : n, t]);
      }
    }
    return out;
  }

  /**
   * name -> tensor for every parameter and persistent buffer, keys as PyTorch writes them.
   * The tensors are the module's own (as PyTorch's share storage): do not dispose them.
   */
  stateDict(): StateDict {
    const out: StateDict = {};
    const walk = (m: Module, p: string): void => {
      for (const [n, t] of m._parameters) if (t !== null) out[p + n] = t;
      for (const [n, t] of m._buffers) if (t !== null && !m._nonPersistent.has(n)) out[p + n] = t;
      for (const [n, c] of m._modules) if (c !== null) walk(c, `${p}${n}.`);
    };
    walk(this, '');
    return out;
  }

  /**
   * Copies values from `dict` into this module's tensors (converting dtype). Strict (the
   * default) throws listing missing, unexpected and mis-shaped keys by name; non-strict loads
   * what fits and returns the rest, which is how a checkpoint with other `classes` is reused.
   */
  loadStateDict(dict: Record<string, Tensor>, options: { strict?: boolean } = {}): LoadResult {
    const where = `${this.constructor.name}.loadStateDict`;
    if (!is.object(dict)) throw invalidParameterError(where, 'dict', 'an object name -> Tensor', dict);
    const strict = readOptions(where, options, ['strict']).bool('strict', true);
    const own = this.stateDict();
    const result: LoadResult = { missingKeys: [], unexpectedKeys: [], mismatchedKeys: [] };
    const matches: [Tensor, Tensor][] = [];
    for (const [key, target] of Object.entries(own)) {
      if (!Object.hasOwn(dict, key)) {
        result.missingKeys.push(key);
        continue;
      }
      const src = dict[key];
      if (!(src instanceof Tensor)) throw invalidParameterError(where, `dict[${show(key)}]`, 'a Tensor', src);
      if (src.shape.join() !== target.shape.join()) {
        result.mismatchedKeys.push({ key, expected: [...target.shape], received: [...src.shape] });
        continue;
      }
      matches.push([target, src]);
    }
    for (const key of Object.keys(dict)) if (!(key in own)) result.unexpectedKeys.push(key);
    const optional = new Set(this.namedModules().flatMap(([p, m]) => m.optionalStateKeys().map((k) => (p ? `${p}.${k}` : k))));
    result.missingKeys = result.missingKeys.filter((k) => !optional.has(k));
    const problems = result.missingKeys.length + result.unexpectedKeys.length + result.mismatchedKeys.length;
    if (strict && problems > 0) {
      const lines = [
        ...(result.missingKeys.length ? [`missing keys: ${result.missingKeys.join(', ')}`] : []),
        ...(result.unexpectedKeys.length ? [`unexpected keys: ${result.unexpectedKeys.join(', ')}`] : []),
        ...result.mismatchedKeys.map(
          (m) => `size mismatch for ${m.key}: expected [${m.expected.join(', ')}], got [${m.received.join(', ')}]`,
        ),
      ];
      throw new Error(`Error(s) in loading state dict for ${this.constructor.name}:\n  ${lines.join('\n  ')}`);
    }
    noGrad(() => {
      for (const [target, src] of matches) target.copy_(src);
    });
    return result;
  }

  /** Sets training mode here and in every descendant. */
  train(mode = true): this {
    checkBool(`${this.constructor.name}.train`, 'mode', mode);
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Clears gradients: set to null (the default, as PyTorch 2) or zeroed in place. */
  zeroGrad(options?: { setToNone?: boolean }): void {
    const setToNone = readOptions(`${this.constructor.name}.zeroGrad`, options, ['setToNone']).bool('setToNone', true);
    for (const p of this.parameters()) {
      if (!setToNone) p.grad?.zero_();
      else p.grad = null;
    }
  }

  /** Freezes (false) or unfreezes every parameter. */
  requiresGrad_(flag = true): this {
    for (const p of this.parameters()) p.requiresGrad_(flag);
    return this;
  }

  /** Calls fn on every descendant and then this module, as PyTorch's apply (for custom init). */
  apply(fn: (m: Module) => void): this {
    for (const c of this.children()) c.apply(fn);
    fn(this);
    return this;
  }

  /**
   * Converts parameters and buffers in place (their handles stay valid): a dtype applies to
   * floating tensors only, a memory format to 4-D ones, as in PyTorch.
   */
  to(options: { dtype?: DType; device?: string; memoryFormat?: MemoryFormat }): this {
    const given = readOptions(`${this.constructor.name}.to`, options, ['dtype', 'device', 'memoryFormat']).values;
    const floating = (t: Tensor) => t.dtype === 'float32' || t.dtype === 'float64' || t.dtype === 'float16' || t.dtype === 'bfloat16';
    const convert = (t: Tensor) => {
      const o: { dtype?: DType; device?: string; memoryFormat?: MemoryFormat } = {};
      if (given.dtype && floating(t)) o.dtype = given.dtype;
      if (given.device) o.device = given.device;
      if (given.memoryFormat && t.ndim === 4) o.memoryFormat = given.memoryFormat;
      if (Object.keys(o).length === 0) return;
      noGrad(() => {
        const next = t.to(o);
        t.setData(next);
        next.dispose();
        const g = t.grad;
        if (g) {
          const ng = g.to(o);
          g.setData(ng);
          ng.dispose();
        }
      });
    };
    for (const t of [...this.parameters(), ...this.buffers()]) convert(t);
    return this;
  }

  /** Parameter count (all, or only trainable ones). */
  numParameters(options?: { trainable?: boolean }): number {
    const trainable = readOptions(`${this.constructor.name}.numParameters`, options, ['trainable']).bool('trainable', false);
    return this.parameters()
      .filter((p) => !trainable || p.requiresGrad)
      .reduce((n, p) => n + p.numel, 0);
  }

  /** Frees every parameter and buffer of this module and its descendants. */
  dispose(): void {
    for (const m of this.modules()) {
      for (const t of m._parameters.values()) t?.dispose();
      for (const t of m._buffers.values()) t?.dispose();
    }
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /**
   * State-dict keys of this module that a strict load may find absent without error: older
   * PyTorch files have no BatchNorm `num_batches_tracked`, and PyTorch accepts them too.
   */
  protected optionalStateKeys(): readonly string[] {
    return [];
  }

  /** One line of constructor arguments for toString(), as PyTorch's extra_repr. */
  extraRepr(): string {
    return '';
  }

  toString(): string {
    const count = this.numParameters();
    return this.repr() + (this.namedModules().length > 1 && count > 0 ? ` # ${count.toLocaleString('en-US')} parameters` : '');
  }

  /** PyTorch's layout: extra_repr on the head line when alone, else as the first body line. */
  private repr(): string {
    const children = this.namedChildren();
    const extra = this.extraRepr();
    if (children.length === 0) return `${this.constructor.name}(${extra})`;
    const lines = [...(extra ? extra.split('\n') : []), ...children.map(([n, c]) => `(${n}): ${c.repr()}`)];
    return `${this.constructor.name}(\n${lines.map((l) => `  ${l.split('\n').join('\n  ')}`).join('\n')}\n)`;
  }
}

const scoped = new WeakSet<Module>();

/**
 * A registered child's forward runs in its own tidy scope, so the tensors it makes and does not
 * return are freed when it returns, as Python frees a forward's locals: without it every
 * activation inside a block would live until the enclosing scope (often the whole model's
 * forward) ends. Autograd keeps what backward needs on its own.
 */
function scopeForward(m: Module): void {
  if (scoped.has(m)) return;
  scoped.add(m);
  const forward = m.forward;
  Object.defineProperty(m, 'forward', {
    value: function scopedForward(this: Module, ...args: unknown[]) {
      return tidy(() => forward.apply(this, args as never));
    },
    writable: true,
    configurable: true,
    enumerable: false,
  });
}
