// Cosine annealing, plain (CosineAnnealingLR) and with warm restarts (SGDR). The arithmetic is
// written in PyTorch's order (pi * epoch / T vs epoch * pi / T round differently).
import type { Optimizer } from '../optimizer.js';
import { checkNumber } from '../../../validate.js';
import { LRScheduler, schedulerOptions, type SchedulerOptions } from './base.js';

/**
 * Cosine annealing from the initial lr to `etaMin` (default 0) over `tMax` epochs, by PyTorch's
 * recursive formula (which, past tMax, climbs back up: it is periodic with period 2 * tMax).
 */
export class CosineAnnealingLR extends LRScheduler {
  tMax: number;
  etaMin: number;
  constructor(optimizer: Optimizer<any>, options: { tMax: number; etaMin?: number } & SchedulerOptions) {
    const o = schedulerOptions('CosineAnnealingLR', options, ['tMax', 'etaMin', 'lastEpoch'], true);
    super('CosineAnnealingLR', optimizer, o.get('lastEpoch') as number | undefined);
    this.tMax = o.number('tMax', undefined, { min: 0, exclusive: 'min' });
    this.etaMin = o.number('etaMin', 0);
    this._initialStep();
  }

  protected override getLr(): number[] {
    const { lastEpoch: e, tMax, etaMin } = this;
    const groups = this.optimizer.paramGroups;
    if (e === 0) return groups.map((g) => g.lr);
    if (this._stepCount === 1 && e > 0) {
      return this.baseLrs.map((b) => etaMin + ((b - etaMin) * (1 + Math.cos((e * Math.PI) / tMax))) / 2);
    }
    if ((e - 1 - tMax) % (2 * tMax) === 0) {
      return groups.map((g, i) => g.lr + ((this.baseLrs[i]! - etaMin) * (1 - Math.cos(Math.PI / tMax))) / 2);
    }
    return groups.map(
      (g) => ((1 + Math.cos((Math.PI * e) / tMax)) / (1 + Math.cos((Math.PI * (e - 1)) / tMax))) * (g.lr - etaMin) + etaMin,
    );
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => this.etaMin + ((b - this.etaMin) * (1 + Math.cos((Math.PI * this.lastEpoch) / this.tMax))) / 2);
  }

  protected override stateFields(): [string, string][] {
    return [['tMax', 'T_max'], ['etaMin', 'eta_min'], ...super.stateFields()];
  }
}

/**
 * SGDR: cosine annealing restarted every `t0` epochs, each period `tMult` times longer than
 * the last. step(epoch) accepts fractional epochs (`epoch + i / itersPerEpoch`), as in PyTorch.
 */
export class CosineAnnealingWarmRestarts extends LRScheduler {
  t0: number;
  tI: number;
  tMult: number;
  etaMin: number;
  tCur: number;
  constructor(optimizer: Optimizer<any>, options: { t0: number; tMult?: number; etaMin?: number } & SchedulerOptions) {
    const o = schedulerOptions('CosineAnnealingWarmRestarts', options, ['t0', 'tMult', 'etaMin', 'lastEpoch'], true);
    super('CosineAnnealingWarmRestarts', optimizer, o.get('lastEpoch') as number | undefined);
    this.t0 = o.int('t0');
    this.tI = this.t0;
    this.tMult = o.int('tMult', 1);
    this.etaMin = o.number('etaMin', 0);
    this.tCur = this.lastEpoch;
    this._initialStep();
  }

  protected override getLr(): number[] {
    return this.baseLrs.map((b) => this.etaMin + ((b - this.etaMin) * (1 + Math.cos((Math.PI * this.tCur) / this.tI))) / 2);
  }

  /** PyTorch's own step: it does not count _step_count, and an epoch places it within its period. */
  override step(epoch?: number): void {
    if (epoch === undefined && this.lastEpoch < 0) epoch = 0;
    if (epoch === undefined) {
      epoch = this.lastEpoch + 1;
      this.tCur = this.tCur + 1;
      if (this.tCur >= this.tI) {
        this.tCur = this.tCur - this.tI;
        this.tI = this.tI * this.tMult;
      }
    } else {
      checkNumber(this.name, 'epoch', epoch, { min: 0 });
      if (epoch >= this.t0) {
        if (this.tMult === 1) {
          this.tCur = epoch % this.t0;
        } else {
          const n = Math.trunc(Math.log((epoch / this.t0) * (this.tMult - 1) + 1) / Math.log(this.tMult));
          this.tCur = epoch - (this.t0 * (this.tMult ** n - 1)) / (this.tMult - 1);
          this.tI = this.t0 * this.tMult ** n;
        }
      } else {
        this.tI = this.t0;
        this.tCur = epoch;
      }
    }
    this.lastEpoch = Math.floor(epoch);
    this.setLrs(this.getLr());
  }

  protected override stateFields(): [string, string][] {
    return [['t0', 'T_0'], ['tI', 'T_i'], ['tMult', 'T_mult'], ['etaMin', 'eta_min'], ['tCur', 'T_cur'], ...super.stateFields()];
  }
}
