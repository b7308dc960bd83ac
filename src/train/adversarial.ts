// Adversarial training of a segmenter (Luc et al. 2016): per batch, the adversary first learns
// to tell the true label maps from the segmenter's (binary cross-entropy, eq. 2), then the
// segmenter learns from its own loss plus lambda times the "flipped" adversarial term, the
// cross-entropy of the adversary calling its maps true (eq. 3 with the flip of Sec. 3.1), which
// gives stronger gradients early on than minimising -log(1 - a). Losses are batch means.
import { torch, F, type Tensor } from '../torch/index.js';
import type { Optimizer } from '../torch/optim/optimizer.js';
import type { Discriminator } from '../models/discriminators/discriminator.js';
import { probabilityMap, scaleTruth, truthMap } from '../models/discriminators/encoding.js';
import { invalidParameterError, is, readOptions } from '../validate.js';
import { deviceOf, lossOf, logitsOf, onDevice, targetFor, withAutocast } from './step.js';
import type { Resolved } from './options.js';
import { foregroundCounts } from './train-batch.js';
import type { Tally } from './loop-state.js';
import type { AdversarialStats } from './events.js';

export interface AdversarialOptions {
  /** The adversary (createDiscriminator), on the segmenter's device. */
  discriminator: Discriminator;
  /** Its optimizer; saved in every full checkpoint beside the segmenter's. */
  optimizer: Optimizer<any>;
  /** lambda: the adversarial term's weight in the segmenter's loss (0 trains the adversary only alongside). */
  weight: number;
  /** 'scaling': the least probability the true class keeps (default 0.9). */
  tau?: number;
  /** Batches at the start of the run during which only the adversary learns (default 0). */
  pretrainSteps?: number;
}

export type ResolvedAdversarial = Required<AdversarialOptions>;

export function readAdversarialOptions(where: string, value: unknown): ResolvedAdversarial {
  const o = readOptions(where, value as AdversarialOptions, ['discriminator', 'optimizer', 'weight', 'tau', 'pretrainSteps']);
  const discriminator = o.custom<Discriminator>(
    'discriminator',
    undefined,
    (v) => is.object(v) && typeof (v as { forward?: unknown }).forward === 'function' && 'encoding' in (v as object),
    'a Discriminator (createDiscriminator)',
  );
  if (discriminator === undefined) throw invalidParameterError(where, 'discriminator', 'a Discriminator (createDiscriminator)', undefined);
  const optimizer = o.get('optimizer') as Optimizer<any> | undefined;
  if (!is.object(optimizer) || typeof optimizer.step !== 'function')
    throw invalidParameterError(where, 'optimizer', "an Optimizer over the discriminator's parameters", optimizer);
  return {
    discriminator,
    optimizer,
    weight: o.number('weight', undefined, { min: 0 }),
    tau: o.probability('tau', 0.9),
    pretrainSteps: o.int('pretrainSteps', 0, { min: 0 }),
  };
}

export interface AdversarialBatch {
  /** The segmenter's own loss (comparable with a run without the adversary). */
  loss: number;
  tp: number;
  fp: number;
  fn: number;
  /** The flipped adversarial term: -log a(x, s(x)), mean over the batch. */
  adversarialLoss: number;
  /** The adversary's loss on this batch's true and predicted maps (before its step). */
  discriminatorLoss: number;
  /** Of the 2N maps, how many the adversary classed right (before its step). */
  discriminatorCorrect: number;
  discriminatorSeen: number;
  /** Only the adversary learned (pre-training): the segmenter's optimizer must not step. */
  pretraining: boolean;
}

function setRequiresGrad(params: Tensor[], flag: boolean): void {
  for (const p of params) p.requiresGrad_(flag);
}

/** BCE with logits against an all-`label` target. */
function bceAll(logits: Tensor, label: 0 | 1): Tensor {
  return F.binaryCrossEntropyWithLogits(logits.float(), label === 1 ? torch.onesLike(logits).float() : torch.zerosLike(logits).float());
}

/** One batch of the alternating scheme; the segmenter's gradients are left for the Trainer's step. */
export function adversarialBatch(o: Resolved, a: ResolvedAdversarial, step: number, image: Tensor, mask: Tensor): AdversarialBatch {
  const D = a.discriminator;
  const pretraining = step < a.pretrainSteps;
  return torch.tidy(() => {
    const device = deviceOf(o.model);
    const onIt = onDevice(image, device);
    const x = o.channelsLast ? onIt.contiguous({ memoryFormat: 'channelsLast' }) : onIt;
    const m = onDevice(mask, device);
    const run = <T>(fn: () => T): T => (o.autocast ? withAutocast(device, fn) : fn());
    const forward = () => run(() => o.model.forward(x));
    // Pre-training: the segmenter predicts as it would at test time and changes in nothing,
    // batch-norm statistics included.
    let output: unknown;
    if (pretraining) {
      const wasTraining = o.model.training;
      o.model.eval();
      try {
        output = torch.noGrad(forward);
      } finally {
        if (wasTraining) o.model.train();
      }
    } else output = forward();
    const logits = logitsOf(output);
    const classes = logits.shape[1]!;
    const segLoss = lossOf(o.loss, output, targetFor(m, classes), (o.model as { auxLossWeight?: number }).auxLossWeight ?? 0.4).float();
    const pred = probabilityMap(logits);
    const truth0 = truthMap(m, pred, o.ignoreIndex);
    const truth = D.encoding === 'scaling' ? scaleTruth(truth0, pred, a.tau) : truth0;

    // The adversary's step, on the maps as they are now (the prediction detached).
    D.train();
    const real = run(() => D.forward(x, truth));
    const fake = run(() => D.forward(x, pred.detach()));
    const dLoss = bceAll(real, 1).add(bceAll(fake, 0));
    const dValue = dLoss.item();
    const correct = torch.noGrad(() => real.gt(0).sum().add(fake.le(0).sum()).item());
    const n = real.shape[0]!;
    dLoss.backward();
    a.optimizer.step();
    a.optimizer.zeroGrad();

    const value = segLoss.item();
    const counts = torch.noGrad(() => foregroundCounts(o, logits, m, classes));
    if (pretraining) {
      const adv = torch.noGrad(() =>
        bceAll(
          run(() => D.forward(x, pred)),
          1,
        ).item(),
      );
      return {
        loss: value,
        ...counts,
        adversarialLoss: adv,
        discriminatorLoss: dValue,
        discriminatorCorrect: correct,
        discriminatorSeen: 2 * n,
        pretraining,
      };
    }
    // The segmenter's step: its loss plus lambda times the flipped term through the updated
    // adversary, whose own parameters take no gradient from it.
    const params = D.parameters();
    let adv: number;
    let total: Tensor;
    if (a.weight > 0) {
      setRequiresGrad(params, false);
      try {
        const advLoss = bceAll(
          run(() => D.forward(x, pred)),
          1,
        );
        adv = advLoss.item();
        total = segLoss.add(advLoss.mul(a.weight));
      } finally {
        setRequiresGrad(params, true);
      }
    } else {
      adv = torch.noGrad(() =>
        bceAll(
          run(() => D.forward(x, pred)),
          1,
        ).item(),
      );
      total = segLoss;
    }
    const result = {
      loss: value,
      ...counts,
      adversarialLoss: adv,
      discriminatorLoss: dValue,
      discriminatorCorrect: correct,
      discriminatorSeen: 2 * n,
      pretraining,
    };
    // A non-finite term (either) ends the run as a non-finite loss does, before any gradient lands.
    if (!Number.isFinite(value) || !Number.isFinite(adv)) return { ...result, loss: Number.isFinite(value) ? adv : value };
    total.backward();
    return result;
  });
}

/** Adds a batch's adversarial numbers to the epoch's tally. */
export function tallyAdversarial(t: Tally, r: AdversarialBatch): void {
  t.adversarialLossSum = (t.adversarialLossSum ?? 0) + r.adversarialLoss;
  t.discriminatorLossSum = (t.discriminatorLossSum ?? 0) + r.discriminatorLoss;
  t.discriminatorCorrect = (t.discriminatorCorrect ?? 0) + r.discriminatorCorrect;
  t.discriminatorSeen = (t.discriminatorSeen ?? 0) + r.discriminatorSeen;
}

/** The epoch's means so far. */
export function adversarialStats(t: Tally): AdversarialStats {
  const b = Math.max(t.batches, 1);
  return {
    loss: (t.adversarialLossSum ?? 0) / b,
    discriminatorLoss: (t.discriminatorLossSum ?? 0) / b,
    discriminatorAccuracy: (t.discriminatorCorrect ?? 0) / Math.max(t.discriminatorSeen ?? 0, 1),
  };
}
