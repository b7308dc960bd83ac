// SequentialLR: one scheduler after another, switching at milestones (typically a LinearLR
// warm-up, then the main schedule). A port of PyTorch 1.13's, including its quirks: at a
// milestone the next scheduler restarts by its closed form at epoch 0.
import { checkIntList, invalidParameterError, readOptions } from '../../../validate.js';
import type { Optimizer } from '../optimizer.js';
import { LRScheduler, type SchedulerStateDict } from './base.js';

function bisectRight(sorted: number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x < sorted[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export class SequentialLR extends LRScheduler {
  readonly schedulers: LRScheduler[];
  milestones: number[];

  /**
   * `schedulers` must all drive `optimizer` and be constructed just before (each construction
   * steps once; SequentialLR undoes that); `milestones` has one epoch fewer than `schedulers`.
   */
  constructor(optimizer: Optimizer<any>, schedulers: LRScheduler[], milestones: number[], options?: { lastEpoch?: number }) {
    const name = 'SequentialLR';
    super(name, optimizer, -1);
    const lastEpoch = readOptions(name, options, ['lastEpoch']).int('lastEpoch', -1, { min: -1 });
    if (!Array.isArray(schedulers) || schedulers.length === 0 || !schedulers.every((s) => s instanceof LRScheduler)) {
      throw invalidParameterError(name, 'schedulers', 'a non-empty array of schedulers', schedulers);
    }
    schedulers.forEach((s, i) => {
      if (s.optimizer !== optimizer) throw new Error(`${name}: schedulers[${i}] drives another optimizer than the one given`);
    });
    const why = `one fewer than the ${schedulers.length} schedulers`;
    this.milestones = checkIntList(name, 'milestones', milestones, { length: schedulers.length - 1, min: 0, nonEmpty: false, why });
    this.schedulers = [...schedulers];
    this.lastEpoch = lastEpoch + 1;
    for (const g of optimizer.paramGroups) g.lr = g.initialLr as number;
    for (const s of this.schedulers) s.lastEpoch -= 1;
    this.schedulers[0]!._initialStep();
    this.lastLr = this.schedulers[0]!.getLastLr();
  }

  protected override getLr(): number[] {
    return this.getLastLr();
  }

  /** The next epoch, by the scheduler whose turn it is (restarted at epoch 0 on its milestone). */
  override step(epoch?: number): void {
    if (epoch !== undefined) throw new TypeError(`${this.name}: step() takes no epoch`);
    this.lastEpoch += 1;
    const idx = bisectRight(this.milestones, this.lastEpoch);
    const s = this.schedulers[idx]!;
    if (idx > 0 && this.milestones[idx - 1] === this.lastEpoch) s.step(0);
    else s.step();
    this.lastLr = s.getLastLr();
  }

  protected override stateFields(): [string, string][] {
    return [
      ['milestones', '_milestones'],
      ['lastEpoch', 'last_epoch'],
      ['lastLr', '_last_lr'],
    ];
  }

  override stateDict(): SchedulerStateDict {
    return { ...super.stateDict(), _schedulers: this.schedulers.map((s) => s.stateDict()) };
  }

  override loadStateDict(sd: SchedulerStateDict): void {
    const subs = sd?._schedulers;
    if (subs !== undefined && (!Array.isArray(subs) || subs.length !== this.schedulers.length)) {
      throw invalidParameterError(
        `${this.name}.loadStateDict`,
        '_schedulers',
        `an array of ${this.schedulers.length} state dicts`,
        subs,
        RangeError,
      );
    }
    (subs as SchedulerStateDict[] | undefined)?.forEach((s, i) => this.schedulers[i]!.loadStateDict(s));
    super.loadStateDict(sd);
  }
}
