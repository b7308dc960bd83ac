// The 1cycle policy (Smith & Topin): lr up from maxLr / divFactor to maxLr, then down to
// initial / finalDivFactor, with momentum (SGD, RMSprop) or beta1 (Adam) cycling the other way.
import { snakeToCamel, type Optimizer } from '../optimizer.js';
import { LRScheduler, checkOptimizer, perGroup, schedulerOptions, type SchedulerOptions } from './base.js';

export interface OneCycleLROptions extends SchedulerOptions {
  maxLr: number | number[];
  /** The number of steps in the cycle; or give epochs and stepsPerEpoch. */
  totalSteps?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  /** The fraction of the cycle spent increasing the lr (default 0.3). */
  pctStart?: number;
  annealStrategy?: 'cos' | 'linear';
  cycleMomentum?: boolean;
  baseMomentum?: number | number[];
  maxMomentum?: number | number[];
  /** initial lr = maxLr / divFactor (default 25). */
  divFactor?: number;
  /** min lr = initial lr / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /** Three phases (up, down to the initial lr, then annihilation) as in fastai, instead of two. */
  threePhase?: boolean;
}

/** A phase in PyTorch's layout (its lr/momentum names are group keys in snake_case). */
interface Phase {
  end_step: number;
  start_lr: string;
  end_lr: string;
  start_momentum: string;
  end_momentum: string;
}

const ANNEAL_STRATEGIES = ['cos', 'linear'] as const;
const OPTION_KEYS = [
  'maxLr',
  'totalSteps',
  'epochs',
  'stepsPerEpoch',
  'pctStart',
  'annealStrategy',
  'cycleMomentum',
  'baseMomentum',
  'maxMomentum',
  'divFactor',
  'finalDivFactor',
  'threePhase',
  'lastEpoch',
];

export class OneCycleLR extends LRScheduler {
  totalSteps: number;
  schedulePhases: Phase[];
  annealStrategy: 'cos' | 'linear';
  cycleMomentum: boolean;
  useBeta1 = false;

  constructor(optimizer: Optimizer<any>, options: OneCycleLROptions) {
    const name = 'OneCycleLR';
    const o = schedulerOptions(name, options, OPTION_KEYS, true);
    checkOptimizer(name, optimizer);
    const lastEpoch = o.int('lastEpoch', -1, { min: -1 });
    let totalSteps: number;
    if (o.has('totalSteps')) totalSteps = o.int('totalSteps');
    else if (o.has('epochs') && o.has('stepsPerEpoch')) totalSteps = o.int('epochs') * o.int('stepsPerEpoch');
    else throw new TypeError(`${name}: give totalSteps, or epochs and stepsPerEpoch`);
    const pct = o.probability('pctStart', 0.3);
    const strategy = o.choice('annealStrategy', ANNEAL_STRATEGIES, 'cos');
    const positive = { min: 0, exclusive: 'min' } as const;
    const divFactor = o.number('divFactor', 25, positive);
    const finalDivFactor = o.number('finalDivFactor', 1e4, positive);
    const maxLrs = perGroup(name, 'maxLr', optimizer, o.get('maxLr'));
    const cycleMomentum = o.bool('cycleMomentum', true);
    // Group keys are written before the base constructor reads initialLr, as PyTorch does.
    if (lastEpoch === -1) {
      optimizer.paramGroups.forEach((g, i) => {
        g.initialLr = maxLrs[i]! / divFactor;
        g.maxLr = maxLrs[i]!;
        g.minLr = (g.initialLr as number) / finalDivFactor;
      });
    }
    let useBeta1 = false;
    if (cycleMomentum) {
      const d = optimizer.defaults as Record<string, unknown>;
      if (!('momentum' in d) && !('betas' in d))
        throw new TypeError(`${name}: cycleMomentum needs an optimizer with momentum or betas (pass cycleMomentum: false)`);
      useBeta1 = 'betas' in d;
      const maxM = perGroup(name, 'maxMomentum', optimizer, o.get('maxMomentum') ?? 0.95);
      const baseM = perGroup(name, 'baseMomentum', optimizer, o.get('baseMomentum') ?? 0.85);
      if (lastEpoch === -1) {
        optimizer.paramGroups.forEach((g, i) => {
          if (useBeta1) g.betas = [maxM[i]!, (g.betas as number[])[1]!];
          else g.momentum = maxM[i]!;
          g.maxMomentum = maxM[i]!;
          g.baseMomentum = baseM[i]!;
        });
      }
    }
    super(name, optimizer, lastEpoch);
    this.totalSteps = totalSteps;
    this.annealStrategy = strategy;
    this.cycleMomentum = cycleMomentum;
    this.useBeta1 = useBeta1;
    const phase = (end: number, lr0: string, lr1: string, m0: string, m1: string): Phase => ({
      end_step: end,
      start_lr: lr0,
      end_lr: lr1,
      start_momentum: m0,
      end_momentum: m1,
    });
    this.schedulePhases = o.bool('threePhase', false)
      ? [
          phase(pct * totalSteps - 1, 'initial_lr', 'max_lr', 'max_momentum', 'base_momentum'),
          phase(2 * pct * totalSteps - 2, 'max_lr', 'initial_lr', 'base_momentum', 'max_momentum'),
          phase(totalSteps - 1, 'initial_lr', 'min_lr', 'max_momentum', 'max_momentum'),
        ]
      : [
          phase(pct * totalSteps - 1, 'initial_lr', 'max_lr', 'max_momentum', 'base_momentum'),
          phase(totalSteps - 1, 'max_lr', 'min_lr', 'base_momentum', 'max_momentum'),
        ];
    this._initialStep();
  }

  private anneal(start: number, end: number, pct: number): number {
    if (this.annealStrategy === 'linear') return (end - start) * pct + start;
    const cosOut = Math.cos(Math.PI * pct) + 1;
    return end + ((start - end) / 2.0) * cosOut;
  }

  protected override getLr(): number[] {
    const stepNum = this.lastEpoch;
    if (stepNum > this.totalSteps) {
      throw new RangeError(`${this.name}: tried to step ${stepNum + 1} times; the schedule has totalSteps ${this.totalSteps}`);
    }
    const phases = this.schedulePhases;
    return this.optimizer.paramGroups.map((group) => {
      const read = (key: string): number => group[snakeToCamel(key)] as number;
      let start = 0;
      let lr = 0;
      let momentum = 0;
      for (const [i, phase] of phases.entries()) {
        const end = phase.end_step;
        if (stepNum <= end || i === phases.length - 1) {
          const pct = (stepNum - start) / (end - start);
          lr = this.anneal(read(phase.start_lr), read(phase.end_lr), pct);
          if (this.cycleMomentum) momentum = this.anneal(read(phase.start_momentum), read(phase.end_momentum), pct);
          break;
        }
        start = phase.end_step;
      }
      if (this.cycleMomentum) {
        if (this.useBeta1) group.betas = [momentum, (group.betas as number[])[1]!];
        else group.momentum = momentum;
      }
      return lr;
    });
  }

  /** Also sets the groups' momentum (or beta1) for the restored epoch, which lives in the optimizer's state. */
  override loadStateDict(sd: Record<string, unknown>): void {
    super.loadStateDict(sd);
    if (this.cycleMomentum) this.getLr();
  }

  protected override stateFields(): [string, string][] {
    return [
      ['totalSteps', 'total_steps'],
      ['schedulePhases', '_schedule_phases'],
      ['cycleMomentum', 'cycle_momentum'],
      ['useBeta1', 'use_beta1'],
      ...super.stateFields(),
    ];
  }
}
