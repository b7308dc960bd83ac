// The run configuration's optimizer and scheduler sections: one strict schema per name, with
// PyTorch's defaults (AdamW's weight decay 0.01 as torch.optim.AdamW's).
import * as z from 'zod';
import { fraction, int, positive, strict } from './config-zod.js';

export const OPTIMIZER_NAMES = ['sgd', 'adam', 'adamw', 'rmsprop'] as const;
export const SCHEDULER_NAMES = ['none', 'cosine', 'poly', 'step', 'multistep', 'cosine-restarts', 'onecycle', 'plateau'] as const;

const ParamGroup = z
  .looseObject({ params: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]) })
  .describe("parameters under these module paths ('encoder', 'decoder.blocks.0') with their own options; the rest form a last group");
const paramGroups = z.array(ParamGroup).min(1).optional();
const betas = z.tuple([fraction(), fraction()]);

const adam = (weightDecay: number) => ({
  lr: positive().default(1e-3),
  betas: betas.default([0.9, 0.999]),
  eps: positive().default(1e-8),
  weightDecay: z.number().min(0).default(weightDecay),
  amsgrad: z.boolean().default(false),
  fused: z
    .boolean()
    .default(false)
    .describe('one native pass per parameter and step (float32 CPU parameters): faster, equal up to float rounding'),
  paramGroups,
});
export const Optimizer = z.discriminatedUnion('name', [
  strict({ name: z.literal('adamw').default('adamw'), ...adam(0.01) }),
  strict({ name: z.literal('adam'), ...adam(0) }),
  strict({
    name: z.literal('sgd'),
    lr: positive().default(0.01),
    momentum: z.number().min(0).default(0.9),
    dampening: z.number().default(0),
    weightDecay: z.number().min(0).default(1e-4),
    nesterov: z.boolean().default(false),
    paramGroups,
  }),
  strict({
    name: z.literal('rmsprop'),
    lr: positive().default(0.01),
    alpha: z.number().min(0).default(0.99),
    eps: positive().default(1e-8),
    weightDecay: z.number().min(0).default(0),
    momentum: z.number().min(0).default(0),
    centered: z.boolean().default(false),
    paramGroups,
  }),
]);

// Shared by every schedule. Per-schedule lengths (tMax, stepSize, milestones, t0) count epochs
// after the warm-up; with interval 'step' they are converted to optimizer steps.
const warm = {
  warmupEpochs: int(0).default(0).describe('epochs of linear warm-up (LinearLR) before the schedule'),
  warmupStartFactor: z.number().gt(0).max(1).default(0.1),
  interval: z.enum(['epoch', 'step']).default('epoch').describe('step the schedule after each epoch or each optimizer step'),
};
const rest = () => int(1).nullable().default(null).describe('epochs; null: the rest of the run after the warm-up');
export const Scheduler = z.discriminatedUnion('name', [
  strict({ name: z.literal('none').default('none'), ...warm }),
  strict({ name: z.literal('cosine'), ...warm, tMax: rest(), etaMin: z.number().min(0).default(0) }),
  strict({ name: z.literal('poly'), ...warm, totalIters: rest(), power: z.number().positive().default(0.9) }),
  strict({ name: z.literal('step'), ...warm, stepSize: int(1), gamma: positive().default(0.1) }),
  strict({ name: z.literal('multistep'), ...warm, milestones: z.array(int(1)).min(1), gamma: positive().default(0.1) }),
  strict({ name: z.literal('cosine-restarts'), ...warm, t0: int(1), tMult: int(1).default(1), etaMin: z.number().min(0).default(0) }),
  strict({
    name: z.literal('onecycle'),
    ...warm,
    maxLr: positive().nullable().default(null).describe("null: the optimizer's lr"),
    pctStart: fraction().default(0.3),
    annealStrategy: z.enum(['cos', 'linear']).default('cos'),
    divFactor: positive().default(25),
    finalDivFactor: positive().default(1e4),
    threePhase: z.boolean().default(false),
    cycleMomentum: z.boolean().default(true),
    baseMomentum: fraction().default(0.85),
    maxMomentum: fraction().default(0.95),
  }),
  strict({
    name: z.literal('plateau'),
    ...warm,
    factor: z.number().gt(0).lt(1).default(0.1),
    patience: int(0).default(10),
    threshold: z.number().min(0).default(1e-4),
    thresholdMode: z.enum(['rel', 'abs']).default('rel'),
    cooldown: int(0).default(0),
    minLr: z.number().min(0).default(0),
    eps: z.number().min(0).default(1e-8),
  }),
]);
