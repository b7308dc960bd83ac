// SequentialLR: one scheduler after another, switching at milestones (typically a LinearLR
// warm-up, then the main schedule). A port of PyTorch 1.13's, including its quirks: at a
// milestone the next scheduler restarts by its closed form at epoch 0.
import { describe, type Optimizer } from '../optimizer.js';
import { LRScheduler, checkInt, type SchedulerStateDict } from './base.js';

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
  constructor(optimizer: Optimizer<any>, schedulers: LRScheduler[], milestones: number[], options: { lastEpoch?: number } = {}) {
    const name = 'SequentialLR';
    super(name, optimizer, -1);
    if (!Array.isArray(schedulers) || schedulers.length === 0 || !schedulers.every((s) => s instanceof LRScheduler)) {
      throw new TypeError(`${name}: schedulers must be a non-empty array of schedulers, got ${describe(schedulers)}`);
    }
    schedulers.forEach((s, i) => {
      if (s.optimizer !== optimizer) throw new Error(`${name}: schedulers[${i}] drives another optimizer than the one given`);
    });
    if (!Array.isArray(milestones) || milestones.length !== schedulers.length - 1) {
      throw new RangeError(`${name}: expected ${schedulers.length - 1} milestones (one fewer than the ${schedulers.length} schedulers), got ${describe(milestones)}`);
    }
    milestones.forEach((m, i) => checkInt(name, `milestones[${i}]`, m, 0));
    this.schedulers = [...schedulers];
    this.milestones = [...milestones];
    this.lastEpoch = checkInt(name, 'lastEpoch', options.lastEpoch ?? -1, -1) + 1;
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
    return [['milestones', '_milestones'], ['lastEpoch', 'last_epoch'], ['lastLr', '_last_lr']];
  }

  override stateDict(): SchedulerStateDict {
    return { ...super.stateDict(), _schedulers: this.schedulers.map((s) => s.stateDict()) };
  }

  override loadStateDict(sd: SchedulerStateDict): void {
    const subs = sd?._schedulers;
    if (subs !== undefined && (!Array.isArray(subs) || subs.length !== this.schedulers.length)) {
      throw new RangeError(`${this.name}.loadStateDict: _schedulers must hold ${this.schedulers.length} state dicts, got ${describe(subs)}`);
    }
    (subs as SchedulerStateDict[] | undefined)?.forEach((s, i) => this.schedulers[i]!.loadStateDict(s));
    super.loadStateDict(sd);
  }
}
