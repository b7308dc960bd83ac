// The scheduler base, a port of PyTorch 1.13's _LRScheduler. Schedulers keep PyTorch's
// recursive ("chainable") formulas, which read each group's current lr, so their lr sequences
// match PyTorch's to the last few ulps (the only difference is libm's cos/pow in the last bit).
import { Optimizer, describe } from '../optimizer.js';

export interface SchedulerOptions {
  /** The index of the last epoch when resuming (default -1: start). Needs `initialLr` in every group. */
  lastEpoch?: number;
}

/** A scheduler's state: PyTorch's attribute names (base_lrs, last_epoch, _step_count, _last_lr, T_max...). */
export type SchedulerStateDict = Record<string, unknown>;

function cloneJson<T>(v: T): T {
  return v === undefined ? v : structuredClone(v);
}

export function checkSchedulerOptions(name: string, options: object | undefined, allowed: readonly string[], required = false): void {
  if (options === undefined && required) throw new TypeError(`${name}: options are required (${allowed.join(', ')})`);
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${name}: options must be an object, got ${describe(options)}`);
  }
  for (const k of Object.keys(options)) {
    if (!allowed.includes(k)) throw new TypeError(`${name}: unknown option '${k}' (known: ${allowed.join(', ')})`);
  }
}

/** A number option: TypeError when not a number, RangeError when `ok` fails. */
export function checkNum(name: string, key: string, v: unknown, ok: (x: number) => boolean = () => true, expected = 'a number'): number {
  if (typeof v !== 'number' || Number.isNaN(v)) throw new TypeError(`${name}: ${key} must be ${expected}, got ${describe(v)}`);
  if (!ok(v)) throw new RangeError(`${name}: ${key} must be ${expected}, got ${describe(v)}`);
  return v;
}

export function checkInt(name: string, key: string, v: unknown, min: number): number {
  const what = min === 1 ? 'a positive integer' : `an integer >= ${min}`;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${name}: ${key} must be ${what}, got ${describe(v)}`);
  if (v < min) throw new RangeError(`${name}: ${key} must be ${what}, got ${v}`);
  return v;
}

/** One value per param group: a number for all, or an array of the group count. */
export function perGroup(name: string, key: string, optimizer: Optimizer<any>, v: unknown): number[] {
  const n = optimizer.paramGroups.length;
  if (Array.isArray(v)) {
    if (v.length !== n) throw new RangeError(`${name}: expected ${n} values for ${key} (one per param group), got ${v.length}`);
    return v.map((x, i) => checkNum(name, `${key}[${i}]`, x));
  }
  return new Array<number>(n).fill(checkNum(name, key, v));
}

export abstract class LRScheduler {
  readonly optimizer: Optimizer<any>;
  baseLrs: number[] = [];
  lastEpoch: number;
  /** @internal how many times step() ran (PyTorch's _step_count; some formulas read it). */
  _stepCount = 0;
  protected lastLr: number[] = [];

  /** Subclasses set their own fields, then call `this._initialStep()` last (as PyTorch's base does). */
  protected constructor(readonly name: string, optimizer: Optimizer<any>, lastEpoch = -1) {
    if (!(optimizer instanceof Optimizer)) throw new TypeError(`${name}: optimizer must be an Optimizer, got ${describe(optimizer)}`);
    if (typeof lastEpoch !== 'number' || !Number.isInteger(lastEpoch) || lastEpoch < -1) {
      throw new TypeError(`${name}: lastEpoch must be an integer >= -1, got ${describe(lastEpoch)}`);
    }
    this.optimizer = optimizer;
    optimizer.paramGroups.forEach((g, i) => {
      if (lastEpoch === -1) g.initialLr ??= g.lr;
      else if (g.initialLr === undefined) {
        throw new Error(`${name}: param group ${i} has no initialLr; resuming with lastEpoch ${lastEpoch} needs the optimizer's state dict loaded first`);
      }
    });
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr as number);
    this.lastEpoch = lastEpoch;
  }

  /** @internal PyTorch's _initial_step: one step to epoch 0 (or lastEpoch + 1). */
  _initialStep(): void {
    this._stepCount = 0;
    this.step();
  }

  /** The lrs of the next epoch by the chainable formula. */
  protected abstract getLr(): number[];

  /** The closed form at `lastEpoch`, used when step() is given an epoch (SequentialLR does that). */
  protected closedFormLr(): number[] | null {
    return null;
  }

  /**
   * Moves to the next epoch and writes each group's lr. Call it after optimizer.step().
   * `epoch` (deprecated in PyTorch, used by SequentialLR) jumps to that epoch by the closed form.
   */
  step(epoch?: number): void {
    this._stepCount += 1;
    let values: number[];
    if (epoch === undefined) {
      this.lastEpoch += 1;
      values = this.getLr();
    } else {
      this.lastEpoch = checkNum(this.name, 'epoch', epoch);
      values = this.closedFormLr() ?? this.getLr();
    }
    this.setLrs(values);
  }

  protected setLrs(values: number[]): void {
    const groups = this.optimizer.paramGroups;
    groups.forEach((g, i) => { g.lr = values[i]!; });
    this.lastLr = groups.map((g) => g.lr);
  }

  /** The lr of each group as last set by this scheduler. */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** JS field -> state-dict key (PyTorch's attribute name); subclasses add their own. */
  protected stateFields(): [string, string][] {
    return [['baseLrs', 'base_lrs'], ['lastEpoch', 'last_epoch'], ['_stepCount', '_step_count'], ['lastLr', '_last_lr']];
  }

  /** The scheduler's state (plain JSON-able data, copies) under PyTorch's attribute names. */
  stateDict(): SchedulerStateDict {
    const out: SchedulerStateDict = {};
    const self = this as unknown as Record<string, unknown>;
    for (const [js, py] of this.stateFields()) out[py] = cloneJson(self[js]);
    return out;
  }

  /**
   * Restores a state dict (keys that are missing keep their values). The groups' lrs are set
   * to the restored last lrs, so resuming works whether the optimizer's state is loaded before
   * or after (PyTorch leaves that to the optimizer's state dict).
   */
  loadStateDict(sd: SchedulerStateDict): void {
    if (sd === null || typeof sd !== 'object' || Array.isArray(sd)) {
      throw new TypeError(`${this.name}.loadStateDict: expected a state dict object, got ${describe(sd)}`);
    }
    const n = this.optimizer.paramGroups.length;
    for (const key of ['base_lrs', '_last_lr']) {
      const v = sd[key];
      if (v !== undefined && (!Array.isArray(v) || v.length !== n || !v.every((x) => typeof x === 'number'))) {
        throw new RangeError(`${this.name}.loadStateDict: ${key} must be an array of ${n} numbers (one per param group), got ${describe(v)}`);
      }
    }
    const self = this as unknown as Record<string, unknown>;
    for (const [js, py] of this.stateFields()) if (py in sd) self[js] = cloneJson(sd[py]);
    this.restoreLrs();
  }

  /** @internal */
  restoreLrs(): void {
    if (this.lastLr.length === this.optimizer.paramGroups.length) this.optimizer.paramGroups.forEach((g, i) => { g.lr = this.lastLr[i]!; });
  }
}
