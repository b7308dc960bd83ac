// The optimizer base: parameter groups, per-parameter state and PyTorch-shaped state dicts.
// Subclasses port PyTorch 1.13's single-tensor (for-loop) updates op for op, so that a run
// matches PyTorch's to float rounding, and its multi-tensor ones (`foreach`, see foreach.ts),
// which give the same values with a few list ops per group; the base runs each update in noGrad + tidy, so `step()`
// leaves no temporaries behind and the live-tensor count stays flat after the first step.
import '../methods.js';
import { Tensor } from '../tensor.js';
import { tidy, keep } from '../scope.js';
import { noGrad, enableGrad } from '../autograd.js';
import { to } from '../ops/conversion.js';
import { isFloatingDType } from '../dtype.js';
import { checkBool, checkNumber, checkOptions, invalidParameterError, is, readOptions, show } from '../../validate.js';

/** What an optimizer keeps per parameter: tensors it owns, step counts, or null (as PyTorch's None). */
export type StateValue = Tensor | number | null;
export type ParamState = Record<string, StateValue>;

/** A parameter group: its tensors, its options (camelCase) and what schedulers add (initialLr, ...). */
export type ParamGroup<O extends { lr: number } = { lr: number }> = O & { params: Tensor[]; [extra: string]: unknown };

/** One group as given to a constructor: tensors plus any options that override the defaults. */
export type ParamGroupInput<O extends { lr: number } = { lr: number }> = { params: Iterable<Tensor> | Tensor } & Partial<O> &
  Record<string, unknown>;

export type ParamsInput<O extends { lr: number } = { lr: number }> = Iterable<Tensor> | Iterable<ParamGroupInput<O>>;

/**
 * PyTorch's layout: `state` keyed by the parameter's index in the concatenation of the groups,
 * and `param_groups` with snake_case option names and `params` as those indices.
 */
export interface OptimizerStateDict {
  state: Record<number | string, Record<string, StateValue>>;
  param_groups: Record<string, unknown>[];
}

/** Group keys that schedulers and users may add besides the optimizer's own options. */
const EXTRA_GROUP_KEYS = ['name', 'initialLr', 'maxLr', 'minLr', 'maxMomentum', 'baseMomentum', 'swaLr'];

/**
 * How one option is checked: a validate.ts check given the class name (`where`) and the option's
 * name as messages show it (`param group 1: lr`); it throws when the value is wrong.
 */
export type OptionRule = (where: string, name: string, value: unknown) => void;
export type OptionRules = Record<string, OptionRule>;

export const nonNegative: OptionRule = (where, name, value) => checkNumber(where, name, value, { min: 0 });
export const anyNumber: OptionRule = (where, name, value) => checkNumber(where, name, value);
export const flag: OptionRule = (where, name, value) => checkBool(where, name, value);
/** `foreach`: true, false, or null for "decide from the parameters' device" (PyTorch's None). */
export const flagOrNull: OptionRule = (where, name, value) => {
  if (value !== null && typeof value !== 'boolean') throw invalidParameterError(where, name, 'true, false or null', value);
};
/** Adam's (beta1, beta2), each in [0, 1). */
export const betasRule: OptionRule = (where, name, value) => {
  if (!Array.isArray(value) || value.length !== 2 || !value.every((b) => typeof b === 'number')) {
    throw invalidParameterError(where, name, 'an array of 2 numbers', value);
  }
  value.forEach((b: number, i) => checkNumber(where, `${name}[${i}]`, b, { min: 0, max: 1, exclusive: 'max' }));
};

/** Checks one option of the constructor (`group` = '') or of a param group (`group` = 'param group 1: '). */
function checkOption(where: string, group: string, key: string, value: unknown, rule: OptionRule): void {
  if (value === undefined) throw new TypeError(`${where}: ${group}${key} is required (give it as an option or in every param group)`);
  rule(where, group + key, value);
}

export const camelToSnake = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
export const snakeToCamel = (k: string): string => k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

function copyValue(v: unknown): unknown {
  return Array.isArray(v) ? [...v] : v;
}

export abstract class Optimizer<O extends { lr: number } = { lr: number }> {
  readonly defaults: Readonly<O>;
  readonly paramGroups: ParamGroup<O>[] = [];
  /** Per-parameter state, created lazily at a parameter's first step. Owned by the optimizer. */
  readonly state = new Map<Tensor, ParamState>();

  /**
   * @param name the class name used in error messages
   * @param options what the caller gave (checked for unknown keys), over `defaultValues`
   * @param rules how each option is validated (its keys are the option names)
   * @param extraCheck checks between options (SGD's nesterov needs momentum), given the merged group
   */
  protected constructor(
    readonly name: string,
    params: ParamsInput<O>,
    options: Partial<O> | undefined,
    defaultValues: Partial<O>,
    private readonly rules: OptionRules,
    private readonly extraCheck?: (group: O, where: string) => void,
  ) {
    const given = checkOptions(name, options, Object.keys(rules));
    const merged: Record<string, unknown> = { ...defaultValues };
    for (const [k, v] of Object.entries(given)) if (v !== undefined) merged[k] = copyValue(v);
    this.validate(merged, '', true);
    this.defaults = Object.freeze(merged as O);
    if (params instanceof Tensor || params == null || typeof (params as Iterable<unknown>)[Symbol.iterator] !== 'function') {
      throw invalidParameterError(name, 'params', 'an array of Tensors or of param groups ({ params, ...options })', params);
    }
    const list = [...(params as Iterable<unknown>)];
    if (list.length === 0) throw new Error(`${name}: got an empty parameter list`);
    const groups = list[0] instanceof Tensor ? [{ params: list }] : list;
    groups.forEach((g) => this.addParamGroup(g as ParamGroupInput<O>));
  }

  /** Checks the options of the constructor (`where` = '') or of one group. */
  protected validate(group: Record<string, unknown>, where: string, allowMissing = false): void {
    for (const [key, rule] of Object.entries(this.rules)) {
      if (allowMissing && group[key] === undefined) continue;
      checkOption(this.name, where, key, group[key], rule);
    }
    if (!allowMissing || Object.values(group).every((v) => v !== undefined))
      this.extraCheck?.(group as unknown as O, `${this.name}: ${where}`);
  }

  /** Adds a group (its options default to the constructor's), as PyTorch's add_param_group. */
  addParamGroup(input: ParamGroupInput<O>): void {
    const idx = this.paramGroups.length;
    const where = `param group ${idx}: `;
    if (!is.object(input) || !('params' in input)) {
      throw invalidParameterError(this.name, `param group ${idx}`, "an object with 'params'", input);
    }
    checkOptions(this.name, input, ['params', ...Object.keys(this.rules), ...EXTRA_GROUP_KEYS], `param group ${idx}`);
    const raw = input.params;
    const params = raw instanceof Tensor ? [raw] : raw != null && typeof raw[Symbol.iterator] === 'function' ? [...raw] : null;
    if (params === null) throw invalidParameterError(this.name, `${where}params`, 'an array of Tensors', raw);
    params.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw invalidParameterError(this.name, `${where}params[${i}]`, 'a Tensor', p);
      if (p.isDisposed) throw new Error(`${this.name}: ${where}params[${i}] is a disposed Tensor`);
      if (!p.isLeaf)
        throw new Error(`${this.name}: ${where}params[${i}] is not a leaf tensor (it was computed from others), so it cannot be optimized`);
    });
    // Arrays (betas) are copied so that changing one group's never changes another's.
    const group: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(this.defaults)) group[k] = copyValue(v);
    for (const [k, v] of Object.entries(input)) if (k !== 'params' && v !== undefined) group[k] = copyValue(v);
    this.validate(group, where);
    const seen = new Set(params);
    if (seen.size !== params.length) throw new Error(`${this.name}: ${where}the same tensor appears twice in params`);
    for (const g of this.paramGroups) {
      if (g.params.some((p) => seen.has(p)))
        throw new Error(`${this.name}: ${where}some parameters appear in more than one parameter group`);
    }
    group.params = params;
    this.paramGroups.push(group as ParamGroup<O>);
  }

  /**
   * Runs one update over every parameter that has a gradient (the others are skipped).
   * `closure`, if given, runs first with grad enabled (it should zero the grads, compute the loss
   * and call backward); its value is returned.
   */
  step<T = void>(closure?: () => T): T | undefined {
    const loss = closure === undefined ? undefined : enableGrad(closure);
    noGrad(() =>
      tidy(`${this.name}.step`, () => {
        for (const group of this.paramGroups) {
          const params: Tensor[] = [];
          const grads: Tensor[] = [];
          for (const p of group.params) {
            const g = p.grad;
            if (g !== null) {
              params.push(p);
              grads.push(g);
            }
          }
          if (params.length > 0) this.updateGroup(group, params, grads);
        }
      }),
    );
    return loss;
  }

  /** The update of one group, inside noGrad and tidy; `params` all have `grads`. */
  protected abstract updateGroup(group: ParamGroup<O>, params: Tensor[], grads: Tensor[]): void;

  /** The state of a parameter, created empty on first use. */
  protected stateOf(p: Tensor): ParamState {
    let s = this.state.get(p);
    if (s === undefined) {
      s = {};
      this.state.set(p, s);
    }
    return s;
  }

  /** Takes a tensor made inside step() out of its tidy scope: the optimizer owns it from now on. */
  protected own(t: Tensor): Tensor {
    return keep(t);
  }

  /** Clears the gradients: sets them to null (the default, as PyTorch 2) or fills them with zeros. */
  zeroGrad(options: { setToNone?: boolean } = {}): void {
    const setToNone = readOptions(`${this.name}.zeroGrad`, options, ['setToNone']).bool('setToNone', true);
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        if (setToNone) {
          if (p.grad !== null) p.grad = null;
        } else {
          const g = p.grad;
          if (g !== null) noGrad(() => g.zero_());
        }
      }
    }
  }

  /**
   * The state in PyTorch's layout (see OptimizerStateDict). Tensors in it are the optimizer's own,
   * not copies: read or save them, but do not dispose or modify them; they stay valid until the
   * next loadStateDict() or dispose().
   */
  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    let next = 0;
    const param_groups = this.paramGroups.map((g) => {
      const packed: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(g)) {
        // An unset `fused` is left out: PyTorch 1.13's AdamW has no such key and its Adam writes
        // False, so a state dict written here matches either where it came from.
        if (k === 'params' || (k === 'fused' && v === null)) continue;
        packed[camelToSnake(k)] = copyValue(v);
      }
      packed.params = g.params.map((p) => {
        if (!index.has(p)) index.set(p, next++);
        return index.get(p)!;
      });
      return packed;
    });
    const state: OptimizerStateDict['state'] = {};
    for (const [p, s] of this.state) {
      const i = index.get(p);
      if (i !== undefined) state[i] = { ...s };
    }
    return { state, param_groups };
  }

  /**
   * Copies a state dict in (tensors are cloned, cast to the parameter's dtype when floating).
   * The group count and sizes must match; `step` may be a number or a one-element tensor (as in
   * PyTorch's Adam); other state tensors must have their parameter's shape. On error nothing changes.
   */
  loadStateDict(sd: OptimizerStateDict): void {
    const where = `${this.name}.loadStateDict`;
    if (sd === null || typeof sd !== 'object' || typeof sd.state !== 'object' || sd.state === null || !Array.isArray(sd.param_groups)) {
      throw invalidParameterError(where, 'the state dict', '{ state, param_groups }', sd);
    }
    if (sd.param_groups.length !== this.paramGroups.length) {
      throw new RangeError(
        `${where}: the state dict has ${sd.param_groups.length} parameter groups, this optimizer has ${this.paramGroups.length}`,
      );
    }
    const byIndex = new Map<number, Tensor>();
    sd.param_groups.forEach((sg, gi) => {
      const ids = sg.params;
      const mine = this.paramGroups[gi]!.params;
      if (!Array.isArray(ids)) throw invalidParameterError(where, `param_groups[${gi}].params`, 'an array of indices', ids);
      if (ids.length !== mine.length) {
        throw new RangeError(
          `${where}: parameter group ${gi} has ${ids.length} parameters in the state dict but ${mine.length} in this optimizer`,
        );
      }
      ids.forEach((id, i) => byIndex.set(Number(id), mine[i]!));
    });
    const groups = sd.param_groups.map((sg, gi) => {
      const g: Record<string, unknown> = { ...this.paramGroups[gi] };
      for (const [k, v] of Object.entries(sg)) {
        const ck = snakeToCamel(k);
        // Keys PyTorch has but segkit does not (fused, capturable, ...) mean nothing here.
        if (ck !== 'params' && (ck in this.rules || EXTRA_GROUP_KEYS.includes(ck))) g[ck] = copyValue(v);
      }
      this.validate(g, `loadStateDict: param_groups[${gi}]: `);
      return g as ParamGroup<O>;
    });
    const fresh = new Map<Tensor, ParamState>();
    try {
      for (const [key, entry] of Object.entries(sd.state)) {
        const p = byIndex.get(Number(key));
        if (p === undefined) throw new RangeError(`${where}: state has an entry for parameter ${key}, which no param group lists`);
        if (entry === null || typeof entry !== 'object') throw invalidParameterError(where, `state[${key}]`, 'an object', entry);
        const s: ParamState = {};
        fresh.set(p, s);
        for (const [k, v] of Object.entries(entry)) s[k] = this.loadValue(v, p, `${where}: state[${key}].${k}`, k === 'step');
      }
    } catch (e) {
      for (const s of fresh.values()) for (const v of Object.values(s)) if (v instanceof Tensor) v.dispose();
      throw e;
    }
    this.disposeState();
    for (const [p, s] of fresh) this.state.set(p, s);
    groups.forEach((g, i) => {
      this.paramGroups[i] = g;
    });
  }

  private loadValue(v: unknown, p: Tensor, what: string, isStep: boolean): StateValue {
    if (v === null || v === undefined) return null;
    if (typeof v === 'number') return v;
    if (!(v instanceof Tensor)) throw new TypeError(`${what} must be a Tensor, a number or null, got ${show(v)}`);
    if (v.isDisposed) throw new Error(`${what} is a disposed Tensor`);
    if (isStep) {
      if (v.numel !== 1) throw new RangeError(`${what} must have one element, got shape [${v.shape.join(', ')}]`);
      return v.item();
    }
    if (v.shape.length !== p.shape.length || v.shape.some((s, i) => s !== p.shape[i])) {
      throw new RangeError(`${what} has shape [${v.shape.join(', ')}] but its parameter has shape [${p.shape.join(', ')}]`);
    }
    const dtype = isFloatingDType(p.dtype) ? p.dtype : v.dtype;
    return keep(noGrad(() => to(v, { dtype, device: p.device, copy: true })));
  }

  private disposeState(): void {
    for (const s of this.state.values()) for (const v of Object.values(s)) if (v instanceof Tensor) v.dispose();
    this.state.clear();
  }

  /** Frees the optimizer's state tensors (not the parameters). The optimizer can still step: state restarts. */
  dispose(): void {
    this.disposeState();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
