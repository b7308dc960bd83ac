// CyclicLR (Smith's cyclical learning rates): the lr goes up from baseLr to maxLr over
// stepSizeUp iterations and back over stepSizeDown, with the amplitude scaled per cycle
// (triangular2), per iteration (exp_range) or by the user's scaleFn; momentum cycles the other
// way. A port of PyTorch 1.13's; step() after each batch. Where the optimizer has betas (Adam)
// instead of momentum, beta1 is cycled, as PyTorch does from 2.0 (1.13 refuses such optimizers).
import { describeChoices, is, show } from '../../../validate.js';
import type { Optimizer } from '../optimizer.js';
import { LRScheduler, checkOptimizer, perGroup, schedulerOptions, type SchedulerOptions } from './base.js';

export interface CyclicLROptions extends SchedulerOptions {
  /** The lower lr of the cycle (and the starting lr), one for all groups or one per group. */
  baseLr: number | number[];
  /** The upper lr of the cycle, one for all groups or one per group. */
  maxLr: number | number[];
  /** Iterations in the increasing half of a cycle (default 2000). */
  stepSizeUp?: number;
  /** Iterations in the decreasing half (default stepSizeUp). */
  stepSizeDown?: number;
  /** 'triangular' (default), 'triangular2' (amplitude halved each cycle), 'exp_range' (gamma ** iteration). Ignored with scaleFn. */
  mode?: 'triangular' | 'triangular2' | 'exp_range';
  /** exp_range's base (default 1). */
  gamma?: number;
  /** A custom amplitude scale in [0, 1]; replaces mode. */
  scaleFn?: (x: number) => number;
  /** What scaleFn is given: the cycle number from 1 ('cycle', default) or the iteration ('iterations'). */
  scaleMode?: 'cycle' | 'iterations';
  /** Cycle momentum (or beta1) inversely to the lr (default true). */
  cycleMomentum?: boolean;
  /** The momentum at the lr's peak (default 0.8). */
  baseMomentum?: number | number[];
  /** The momentum at the cycle's start (default 0.9). */
  maxMomentum?: number | number[];
}

const NAME = 'CyclicLR';
const OPTION_KEYS = [
  'baseLr',
  'maxLr',
  'stepSizeUp',
  'stepSizeDown',
  'mode',
  'gamma',
  'scaleFn',
  'scaleMode',
  'cycleMomentum',
  'baseMomentum',
  'maxMomentum',
  'lastEpoch',
];
const MODES = ['triangular', 'triangular2', 'exp_range'] as const;
const SCALE_MODES = ['cycle', 'iterations'] as const;

export class CyclicLR extends LRScheduler {
  maxLrs: number[];
  totalSize: number;
  stepRatio: number;
  mode: string;
  gamma: number;
  scaleMode: 'cycle' | 'iterations';
  cycleMomentum: boolean;
  useBeta1 = false;
  baseMomentums: number[] = [];
  maxMomentums: number[] = [];
  private readonly scaleFnCustom: ((x: number) => number) | null;

  constructor(optimizer: Optimizer<any>, options: CyclicLROptions) {
    const o = schedulerOptions(NAME, options, OPTION_KEYS, true);
    checkOptimizer(NAME, optimizer);
    const lastEpoch = o.int('lastEpoch', -1, { min: -1 });
    const baseLrs = perGroup(NAME, 'baseLr', optimizer, o.get('baseLr'));
    const maxLrs = perGroup(NAME, 'maxLr', optimizer, o.get('maxLr'));
    const up = o.number('stepSizeUp', 2000, { min: 0, exclusive: 'min' });
    const down = o.number('stepSizeDown', up, { min: 0 });
    const scaleFn = o.custom<((x: number) => number) | null>('scaleFn', null, is.fn, 'a function');
    const mode = o.custom<string>(
      'mode',
      'triangular',
      (m) => scaleFn !== null || is.inArray(m, MODES),
      `${describeChoices(MODES)} (or give scaleFn)`,
    );
    const scaleMode = o.choice('scaleMode', SCALE_MODES, 'cycle');
    const gamma = o.number('gamma', 1);
    const cycleMomentum = o.bool('cycleMomentum', true);
    // Group lrs and momentums are written before the base constructor reads initialLr, as PyTorch does.
    if (lastEpoch === -1)
      optimizer.paramGroups.forEach((g, i) => {
        g.lr = baseLrs[i]!;
      });
    let useBeta1 = false;
    let baseMomentums: number[] = [];
    let maxMomentums: number[] = [];
    if (cycleMomentum) {
      const d = optimizer.defaults as Record<string, unknown>;
      if (!('momentum' in d) && !('betas' in d))
        throw new TypeError(`${NAME}: cycleMomentum needs an optimizer with momentum or betas (pass cycleMomentum: false)`);
      useBeta1 = !('momentum' in d);
      const baseM = perGroup(NAME, 'baseMomentum', optimizer, options.baseMomentum ?? 0.8);
      if (lastEpoch === -1) {
        optimizer.paramGroups.forEach((g, i) => {
          if (useBeta1) g.betas = [baseM[i]!, (g.betas as number[])[1]!];
          else g.momentum = baseM[i]!;
        });
      }
      baseMomentums = optimizer.paramGroups.map((g) => (useBeta1 ? (g.betas as number[])[0]! : (g.momentum as number)));
      maxMomentums = perGroup(NAME, 'maxMomentum', optimizer, options.maxMomentum ?? 0.9);
    }
    super(NAME, optimizer, lastEpoch);
    this.maxLrs = maxLrs;
    this.totalSize = up + down;
    this.stepRatio = up / this.totalSize;
    this.mode = mode;
    this.gamma = gamma;
    this.scaleFnCustom = scaleFn;
    this.scaleMode = scaleFn === null ? (mode === 'exp_range' ? 'iterations' : 'cycle') : scaleMode;
    this.cycleMomentum = cycleMomentum;
    this.useBeta1 = useBeta1;
    this.baseMomentums = baseMomentums;
    this.maxMomentums = maxMomentums;
    this._initialStep();
    this.baseLrs = baseLrs;
  }

  /** The amplitude's scale at `x` (the cycle number or the iteration, by scaleMode). */
  scaleFn(x: number): number {
    if (this.scaleFnCustom !== null) {
      const s = this.scaleFnCustom(x);
      if (typeof s !== 'number' || Number.isNaN(s)) throw new TypeError(`${NAME}: scaleFn must return a number, got ${show(s)} for ${x}`);
      return s;
    }
    if (this.mode === 'triangular2') return 1 / 2.0 ** (x - 1);
    if (this.mode === 'exp_range') return this.gamma ** x;
    return 1.0;
  }

  protected override getLr(): number[] {
    const cycle = Math.floor(1 + this.lastEpoch / this.totalSize);
    const x = 1.0 + this.lastEpoch / this.totalSize - cycle;
    const scaleFactor = x <= this.stepRatio ? x / this.stepRatio : (x - 1) / (this.stepRatio - 1);
    const scale = this.scaleFn(this.scaleMode === 'cycle' ? cycle : this.lastEpoch);
    const lrs = this.baseLrs.map((base, i) => base + (this.maxLrs[i]! - base) * scaleFactor * scale);
    if (this.cycleMomentum) {
      this.optimizer.paramGroups.forEach((g, i) => {
        const base = this.baseMomentums[i]!;
        const max = this.maxMomentums[i]!;
        const m = max - (max - base) * scaleFactor * scale;
        if (this.useBeta1) g.betas = [m, (g.betas as number[])[1]!];
        else g.momentum = m;
      });
    }
    return lrs;
  }

  /** Also sets the groups' momentum (or beta1) for the restored iteration. */
  override loadStateDict(sd: Record<string, unknown>): void {
    super.loadStateDict(sd);
    if (this.cycleMomentum) this.getLr();
  }

  protected override stateFields(): [string, string][] {
    // As PyTorch's, base_momentums and max_momentums exist only when momentum cycles.
    const momentums: [string, string][] = this.cycleMomentum
      ? [
          ['baseMomentums', 'base_momentums'],
          ['maxMomentums', 'max_momentums'],
        ]
      : [];
    return [
      ['maxLrs', 'max_lrs'],
      ['totalSize', 'total_size'],
      ['stepRatio', 'step_ratio'],
      ['mode', 'mode'],
      ['gamma', 'gamma'],
      ['scaleMode', 'scale_mode'],
      ['cycleMomentum', 'cycle_momentum'],
      ...momentums,
      ...super.stateFields(),
    ];
  }
}
