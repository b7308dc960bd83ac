// Learning-rate schedulers against PyTorch 1.13: the lr of every group (and the momentum or
// beta1 that OneCycleLR cycles) before each of 50 steps, the state dict after 20 steps (same
// keys and values as PyTorch's), and resuming from a JSON round trip of that state dict. The
// sequences come from test/fixtures/optim/optim.json (scripts/fixtures/make_optim_fixtures.py).
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { torch, type Tensor } from '../src/index.js';
import {
  SGD,
  Adam,
  StepLR,
  MultiStepLR,
  ExponentialLR,
  ConstantLR,
  LinearLR,
  PolynomialLR,
  CosineAnnealingLR,
  CosineAnnealingWarmRestarts,
  OneCycleLR,
  SequentialLR,
  SWALR,
  type Optimizer,
  type LRScheduler,
} from '../src/torch/optim/index.js';
import { FIXTURES, assertThrows, tensorTest } from './helpers.js';
import { close, momentumOf, sameState } from './scheduler-parity.js';

interface PySchedule {
  lrs: number[][];
  momentum: number[];
  state_mid: Record<string, unknown>;
}
const J = JSON.parse(readFileSync(join(FIXTURES, 'optim', 'optim.json'), 'utf8')) as { schedulers: Record<string, PySchedule> };
const STEPS = 50;
const MID = 20;

/** Optimizers as in the fixture script: one zero parameter per group. */
function sgd(lrs = [0.1]): { opt: Optimizer<any>; params: Tensor[] } {
  const params = lrs.map(() => torch.zeros([1], { requiresGrad: true }));
  return {
    opt: new SGD(
      params.map((p, i) => ({ params: [p], lr: lrs[i] })),
      { lr: lrs[0], momentum: 0.9 },
    ),
    params,
  };
}
function adam(): { opt: Optimizer<any>; params: Tensor[] } {
  const params = [torch.zeros([1], { requiresGrad: true })];
  return { opt: new Adam(params, { lr: 1e-3 }), params };
}

type Make = (o: Optimizer<any>) => LRScheduler;
const CASES: Record<string, [() => { opt: Optimizer<any>; params: Tensor[] }, Make]> = {
  step: [sgd, (o) => new StepLR(o, { stepSize: 7, gamma: 0.5 })],
  multistep: [sgd, (o) => new MultiStepLR(o, { milestones: [10, 25, 25, 40], gamma: 0.3 })],
  exponential: [sgd, (o) => new ExponentialLR(o, { gamma: 0.95 })],
  cosine: [sgd, (o) => new CosineAnnealingLR(o, { tMax: 20, etaMin: 1e-4 })],
  cosine_groups: [() => sgd([0.1, 0.02]), (o) => new CosineAnnealingLR(o, { tMax: 30 })],
  warm_restarts: [sgd, (o) => new CosineAnnealingWarmRestarts(o, { t0: 5, tMult: 2, etaMin: 1e-5 })],
  warm_restarts_1: [sgd, (o) => new CosineAnnealingWarmRestarts(o, { t0: 7 })],
  warm_restarts_frac: [sgd, (o) => new CosineAnnealingWarmRestarts(o, { t0: 3, tMult: 2, etaMin: 0.001 })],
  onecycle: [sgd, (o) => new OneCycleLR(o, { maxLr: 0.1, totalSteps: STEPS })],
  onecycle_adam: [
    adam,
    (o) =>
      new OneCycleLR(o, {
        maxLr: [0.01],
        totalSteps: STEPS,
        pctStart: 0.25,
        annealStrategy: 'linear',
        threePhase: true,
        divFactor: 10,
        finalDivFactor: 100,
      }),
  ],
  onecycle_epochs: [sgd, (o) => new OneCycleLR(o, { maxLr: 0.05, epochs: 5, stepsPerEpoch: 10, baseMomentum: 0.8, maxMomentum: 0.9 })],
  poly: [sgd, (o) => new PolynomialLR(o, { totalIters: 40, power: 0.9 })],
  linear: [sgd, (o) => new LinearLR(o, { startFactor: 0.1, totalIters: 10 })],
  constant: [sgd, (o) => new ConstantLR(o, { factor: 0.5, totalIters: 4 })],
  sequential: [
    sgd,
    (o) =>
      new SequentialLR(
        o,
        [new LinearLR(o, { startFactor: 0.01, totalIters: 5 }), new CosineAnnealingLR(o, { tMax: 45, etaMin: 1e-6 })],
        [5],
      ),
  ],
  sequential3: [
    sgd,
    (o) =>
      new SequentialLR(
        o,
        [
          new LinearLR(o, { startFactor: 0.1, totalIters: 3 }),
          new StepLR(o, { stepSize: 5, gamma: 0.5 }),
          new ExponentialLR(o, { gamma: 0.9 }),
        ],
        [3, 20],
      ),
  ],
  swalr_cos: [sgd, (o) => new SWALR(o, { swaLr: 0.05, annealEpochs: 10 })],
  swalr_linear: [sgd, (o) => new SWALR(o, { swaLr: 0.01, annealEpochs: 5, annealStrategy: 'linear' })],
};

function stepOnce(name: string, s: LRScheduler, i: number): void {
  if (name.startsWith('warm_restarts_frac')) s.step((i + 1) / 4);
  else s.step();
}

/** Runs steps [from, to) and checks lr and momentum before each against PyTorch's sequence. */
function follow(name: string, opt: Optimizer<any>, s: LRScheduler, from: number, to: number, py: PySchedule): void {
  for (let i = from; i < to; i++) {
    const lrs = s.getLastLr();
    assert.equal(lrs.length, py.lrs[i]!.length);
    lrs.forEach((lr, g) => close(lr, py.lrs[i]![g]!, `${name}: lr of group ${g} before step ${i}`));
    opt.paramGroups.forEach((grp, g) => close(grp.lr, py.lrs[i]![g]!, `${name}: paramGroups[${g}].lr before step ${i}`));
    close(momentumOf(opt), py.momentum[i]!, `${name}: momentum before step ${i}`);
    stepOnce(name, s, i);
  }
}

describe('lr sequences match PyTorch 1.13', () => {
  for (const [name, [makeOpt, makeSched]] of Object.entries(CASES)) {
    tensorTest(`${name}: 50 steps, the state dict after 20, and resuming from it`, () => {
      const py = J.schedulers[name]!;
      const a = makeOpt();
      const sa = makeSched(a.opt);
      follow(name, a.opt, sa, 0, MID, py);
      const sd = JSON.parse(JSON.stringify(sa.stateDict())) as Record<string, unknown>;
      sameState(sd, py.state_mid, `${name}.stateDict()`);
      const optSd = JSON.parse(JSON.stringify(a.opt.stateDict())) as ReturnType<Optimizer['stateDict']>;
      follow(name, a.opt, sa, MID, STEPS, py);

      // Resume: fresh optimizer and scheduler, then the optimizer's state, then the scheduler's.
      const b = makeOpt();
      const sb = makeSched(b.opt);
      b.opt.loadStateDict(optSd);
      sb.loadStateDict(sd);
      follow(`${name} (resumed)`, b.opt, sb, MID, STEPS, py);
      // The other order works too: the scheduler's state dict restores the lrs it set.
      const c = makeOpt();
      const sc = makeSched(c.opt);
      sc.loadStateDict(sd);
      follow(`${name} (resumed, scheduler only)`, c.opt, sc, MID, MID + 1, py);
      for (const x of [a, b, c]) torch.dispose(x.params);
    });
  }
});

describe('scheduler behaviour and errors', () => {
  tensorTest('CosineAnnealingWarmRestarts: periods 5, 10, 20 with tMult 2; step(epoch) jumps into the right period', () => {
    const { opt, params } = sgd();
    const s = new CosineAnnealingWarmRestarts(opt, { t0: 5, tMult: 2 });
    const restarts: number[] = [];
    for (let i = 1; i < 40; i++) {
      s.step();
      if (s.tCur === 0) restarts.push(i);
    }
    assert.deepEqual(restarts, [5, 15, 35]);
    s.step(17.5);
    assert.equal(s.tI, 20);
    assert.equal(s.tCur, 2.5);
    assert.equal(s.lastEpoch, 17);
    close(s.getLastLr()[0]!, (0.1 * (1 + Math.cos((Math.PI * 2.5) / 20))) / 2, 'lr at epoch 17.5');
    assertThrows(() => s.step(-1), RangeError, /CosineAnnealingWarmRestarts: epoch must be a non-negative number, got -1/);
    torch.dispose(params);
  });

  tensorTest('OneCycleLR refuses to step past totalSteps and needs momentum or betas to cycle', () => {
    const { opt, params } = sgd();
    const s = new OneCycleLR(opt, { maxLr: 0.1, totalSteps: 3 });
    s.step();
    s.step();
    s.step();
    assertThrows(() => s.step(), RangeError, /OneCycleLR: tried to step 5 times; the schedule has totalSteps 3/);
    assertThrows(() => new OneCycleLR(opt, { maxLr: 0.1 }), TypeError, /OneCycleLR: give totalSteps, or epochs and stepsPerEpoch/);
    assertThrows(
      () => new OneCycleLR(opt, { maxLr: [0.1, 0.2], totalSteps: 5 }),
      RangeError,
      /OneCycleLR: maxLr must be a number or an array of 1 numbers \(one per param group\), got \[0\.1, 0\.2\]/,
    );
    assertThrows(
      () => new OneCycleLR(opt, { maxLr: 0.1, totalSteps: 5, pctStart: 1.5 }),
      RangeError,
      /OneCycleLR: pctStart must be a number from 0 to 1, got 1\.5/,
    );
    assertThrows(
      () => new OneCycleLR(opt, { maxLr: 0.1, totalSteps: 5, annealStrategy: 'exp' as never }),
      TypeError,
      /annealStrategy must be 'cos' or 'linear', got 'exp'/,
    );
    torch.dispose(params);
  });

  tensorTest('bad options name the scheduler, the option, what was expected and what came', () => {
    const { opt, params } = sgd();
    assertThrows(() => new StepLR(opt, { stepSize: 0 }), RangeError, /^StepLR: stepSize must be a positive integer, got 0$/);
    assertThrows(() => new StepLR(opt, { stepSize: 2.5 }), RangeError, /^StepLR: stepSize must be a positive integer, got 2\.5$/);
    assertThrows(
      () => new StepLR(opt, { step_size: 3 } as never),
      TypeError,
      /StepLR: unknown option 'step_size' \(known: stepSize, gamma, lastEpoch\)/,
    );
    assertThrows(
      () => new StepLR(opt, undefined as never),
      TypeError,
      /StepLR: options must be an object with stepSize, gamma, lastEpoch, got undefined/,
    );
    assertThrows(() => new StepLR({} as never, { stepSize: 3 }), TypeError, /StepLR: optimizer must be an Optimizer, got an object/);
    assertThrows(() => new CosineAnnealingLR(opt, { tMax: 0 }), RangeError, /CosineAnnealingLR: tMax must be a positive number, got 0/);
    assertThrows(
      () => new CosineAnnealingWarmRestarts(opt, { t0: 5, tMult: 1.5 }),
      RangeError,
      /tMult must be a positive integer, got 1\.5/,
    );
    assertThrows(() => new LinearLR(opt, { startFactor: 0 }), RangeError, /LinearLR: startFactor must be a number in \(0, 1\], got 0/);
    assertThrows(() => new ConstantLR(opt, { factor: 2 }), RangeError, /ConstantLR: factor must be a number from 0 to 1, got 2/);
    assertThrows(
      () => new MultiStepLR(opt, { milestones: [3, -1] }),
      RangeError,
      /MultiStepLR: milestones must be an array of non-negative integers, got \[3, -1\]/,
    );
    assertThrows(
      () => new PolynomialLR(opt, { totalIters: 10, power: 'x' as never }),
      TypeError,
      /PolynomialLR: power must be a number, got 'x'/,
    );
    assertThrows(
      () => new SWALR(opt, { swaLr: 0.05, annealEpochs: -1 }),
      RangeError,
      /SWALR: annealEpochs must be a non-negative integer, got -1/,
    );
    const lin = new LinearLR(opt, { totalIters: 3 });
    assertThrows(
      () => new SequentialLR(opt, [lin], [3]),
      RangeError,
      /SequentialLR: milestones must be an array of 0 non-negative integers \(one fewer than the 1 schedulers\), got \[3\]/,
    );
    const other = sgd();
    assertThrows(
      () => new SequentialLR(opt, [lin, new StepLR(other.opt, { stepSize: 2 })], [3]),
      Error,
      /SequentialLR: schedulers\[1\] drives another optimizer/,
    );
    assertThrows(
      () => lin.loadStateDict({ base_lrs: [0.1, 0.2] }),
      RangeError,
      /LinearLR\.loadStateDict: base_lrs must be an array of 1 numbers/,
    );
    const fresh = sgd();
    assertThrows(
      () => new StepLR(fresh.opt, { stepSize: 3, lastEpoch: 4 }),
      Error,
      /StepLR: param group 0 has no initialLr; resuming with lastEpoch 4/,
    );
    torch.dispose([params, other.params, fresh.params]);
  });

  tensorTest("lastEpoch resumes from initialLr in the groups, as PyTorch's last_epoch", () => {
    const { opt, params } = sgd();
    opt.paramGroups[0]!.initialLr = 0.1;
    opt.paramGroups[0]!.lr = 0.1 * 0.5 ** 2;
    const s = new StepLR(opt, { stepSize: 5, gamma: 0.5, lastEpoch: 10 });
    assert.equal(s.lastEpoch, 11);
    close(s.getLastLr()[0]!, 0.025, 'lr at epoch 11');
    for (let i = 0; i < 4; i++) s.step();
    close(s.getLastLr()[0]!, 0.0125, 'lr at epoch 15');
    const cos = sgd();
    cos.opt.paramGroups[0]!.initialLr = 0.1;
    const c = new CosineAnnealingLR(cos.opt, { tMax: 10, lastEpoch: 4 });
    close(c.getLastLr()[0]!, (0.1 * (1 + Math.cos((5 * Math.PI) / 10))) / 2, 'cosine closed form on resume');
    torch.dispose([params, cos.params]);
  });
});
