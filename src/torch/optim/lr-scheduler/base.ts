// The scheduler base, a port of PyTorch 1.13's _LRScheduler. Schedulers keep PyTorch's
// recursive ("chainable") formulas, which read each group's current lr, so their lr sequences
// match PyTorch's to the last few ulps (the only difference is libm's cos/pow in the last bit).
import { checkInt, checkNumber, invalidParameterError, is, readOptions, type OptionReader } from '../../../validate.js';
import { Optimizer } from '../optimizer.js';

export interface SchedulerOptions {
  /** The index of the last epoch when resuming (default -1: start). Needs `initialLr` in every group. */
  lastEpoch?: number;
}

/** A scheduler's state: PyTorch's attribute names (base_lrs, last_epoch, _step_count, _last_lr, T_max...). */
export type SchedulerStateDict = Record<string, unknown>;

function cloneJson<T>(v: T): T {
  return v === undefined ? v : structuredClone(v);
}

/** A scheduler's options object, read with its known keys; `required` when some option has no default. */
export function schedulerOptions<O extends object>(
  name: string,
  options: O | undefined,
  known: readonly string[],
  required = false,
): OptionReader<O> {
  if (options === undefined && required) throw invalidParameterError(name, 'options', `an object with ${known.join(', ')}`, options);
  return readOptions(name, options, known);
}

/** One value per param group: a number for all, or an array of one per group. */
export function perGroup(name: string, key: string, optimizer: Optimizer<any>, v: unknown): number[] {
  const n = optimizer.paramGroups.length;
  if (!Array.isArray(v)) return new Array<number>(n).fill(checkNumber(name, key, v));
  if (v.length !== n) throw invalidParameterError(name, key, `a number or an array of ${n} numbers (one per param group)`, v, RangeError);
  return v.map((x, i) => checkNumber(name, `${key}[${i}]`, x));
}

/** The optimizer a scheduler drives. */
export function checkOptimizer(name: string, optimizer: unknown): Optimizer<any> {
  if (!(optimizer instanceof Optimizer)) throw invalidParameterError(name, 'optimizer', 'an Optimizer', optimizer);
  return optimizer;
}

/** A state dict to load: an object whose `perGroupKeys` (when present) hold one number per param group. */
export function checkStateDict(where: string, sd: unknown, optimizer: Optimizer<any>, perGroupKeys: readonly string[]): void {
  if (!is.object(sd)) throw invalidParameterError(where, 'the state dict', 'an object', sd);
  const n = optimizer.paramGroups.length;
  for (const key of perGroupKeys) {
    const v = sd[key];
    if (v !== undefined && (!Array.isArray(v) || v.length !== n || !v.every((x) => typeof x === 'number'))) {
      throw invalidParameterError(where, key, `an array of ${n} numbers (one per param group)`, v, RangeError);
    }
  }
}

export abstract class LRScheduler {
  readonly optimizer: Optimizer<any>;
  baseLrs: number[] = [];
  lastEpoch: number;
  /** @internal how many times step() ran (PyTorch's _step_count; some formulas read it). */
  _stepCount = 0;
  protected lastLr: number[] = [];

  /** Subclasses set their own fields, then call `this._initialStep()` last (as PyTorch's base does). */
  protected constructor(
    readonly name: string,
    optimizer: Optimizer<any>,
    lastEpoch = -1,
  ) {
    this.optimizer = checkOptimizer(name, optimizer);
    checkInt(name, 'lastEpoch', lastEpoch, { min: -1 });
    optimizer.paramGroups.forEach((g, i) => {
      if (lastEpoch === -1) g.initialLr ??= g.lr;
      else if (g.initialLr === undefined) {
        throw new Error(
          `${name}: param group ${i} has no initialLr; resuming with lastEpoch ${lastEpoch} needs the optimizer's state dict loaded first`,
        );
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
      this.lastEpoch = checkNumber(this.name, 'epoch', epoch);
      values = this.closedFormLr() ?? this.getLr();
    }
    this.setLrs(values);
  }

  protected setLrs(values: number[]): void {
    const groups = this.optimizer.paramGroups;
    groups.forEach((g, i) => {
      g.lr = values[i]!;
    });
    this.lastLr = groups.map((g) => g.lr);
  }

  /** The lr of each group as last set by this scheduler. */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** JS field -> state-dict key (PyTorch's attribute name); subclasses add their own. */
  protected stateFields(): [string, string][] {
    return [
      ['baseLrs', 'base_lrs'],
      ['lastEpoch', 'last_epoch'],
      ['_stepCount', '_step_count'],
      ['lastLr', '_last_lr'],
    ];
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
    checkStateDict(`${this.name}.loadStateDict`, sd, this.optimizer, ['base_lrs', '_last_lr']);
    const self = this as unknown as Record<string, unknown>;
    for (const [js, py] of this.stateFields()) if (py in sd) self[js] = cloneJson(sd[py]);
    this.restoreLrs();
  }

  /** @internal */
  restoreLrs(): void {
    if (this.lastLr.length === this.optimizer.paramGroups.length)
      this.optimizer.paramGroups.forEach((g, i) => {
        g.lr = this.lastLr[i]!;
      });
  }
}
