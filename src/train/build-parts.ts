import type { SegmentationModel } from '../models/base.js';
import { SGD } from '../torch/optim/sgd.js';
import { Adam, AdamW } from '../torch/optim/adam.js';
import { RMSprop } from '../torch/optim/rmsprop.js';
import type { Optimizer, ParamGroupInput } from '../torch/optim/optimizer.js';
import * as L from '../losses/index.js';
import * as A from '../data/augment/index.js';
import type { Transform } from '../data/augment/transform.js';
import { AUGMENT_NAMES, type AugmentName, ConfigError, type LossName, type RunConfig } from './config.js';
import { passThroughIssue, showValue } from './config-issues.js';

const TRANSFORMS = A satisfies Record<AugmentName, new (...args: any[]) => Transform>;
const COMPOSITES = ['OneOf', 'SomeOf', 'Compose'];

/** One augmentation of the config (OneOf/SomeOf/Compose with their `transforms`), or null after noting its issues. */
export function augmentOf(item: unknown, path: string, source: string, issues: string[]): Transform | null {
  const { name, transforms, ...options } = (item ?? {}) as Record<string, unknown>;
  if (!AUGMENT_NAMES.includes(name as AugmentName)) {
    issues.push(`${source}: ${path}.name: expected one of ${AUGMENT_NAMES.map((n) => `"${n}"`).join(', ')}, got ${showValue(name)}`);
    return null;
  }
  try {
    if (COMPOSITES.includes(name as string)) {
      if (!Array.isArray(transforms) || transforms.length === 0) {
        issues.push(`${source}: ${path}.transforms: expected a non-empty list of augmentations, got ${showValue(transforms)}`);
        return null;
      }
      const children = transforms.map((t, i) => augmentOf(t, `${path}.transforms[${i}]`, source, issues));
      if (children.some((c) => c === null)) return null;
      return new TRANSFORMS[name as 'OneOf'](children as Transform[], options);
    }
    const Ctor = TRANSFORMS[name as AugmentName] as new (options?: unknown) => Transform;
    return new Ctor(transforms === undefined ? options : { ...options, transforms });
  } catch (e) {
    issues.push(passThroughIssue(source, path, e));
    return null;
  }
}

// Losses that skip the dataset's ignore value once told it (MCCLoss has no ignore index).
const IGNORING: readonly LossName[] = ['dice', 'jaccard', 'tversky', 'focal', 'lovasz', 'bce', 'ce'];

function lossOf(name: LossName, options: Record<string, unknown>, classes: number, ignoreIndex: number): L.Loss {
  const { mode: given, ...rest } = options;
  const mode = (given ?? (classes === 1 ? 'binary' : 'multiclass')) as L.LossMode;
  const o = IGNORING.includes(name) && !('ignoreIndex' in rest) ? { ...rest, ignoreIndex } : rest;
  if (name === 'bce' && classes !== 1 && given !== 'multilabel')
    throw new RangeError(`bce needs a binary model (model.classes 1), got model.classes ${classes}; use "ce" or "dice"`);
  if (name === 'ce' && classes === 1)
    throw new RangeError(`ce needs model.classes of 2 or more, got 1; use "bce" or "dice" for a binary model`);
  if (given !== undefined && !['dice', 'jaccard', 'tversky', 'focal', 'lovasz'].includes(name))
    throw new TypeError(`${name} takes no mode (only dice, jaccard, tversky, focal and lovasz do), got ${showValue(given)}`);
  switch (name) {
    case 'dice':
      return new L.DiceLoss(mode, o);
    case 'jaccard':
      return new L.JaccardLoss(mode, o);
    case 'tversky':
      return new L.TverskyLoss(mode, o);
    case 'focal':
      return new L.FocalLoss(mode, o);
    case 'lovasz':
      return new L.LovaszLoss(mode, o);
    case 'bce':
      return new L.SoftBCEWithLogitsLoss(o);
    case 'ce':
      return new L.SoftCrossEntropyLoss(o);
    case 'mcc':
      return new L.MCCLoss(o);
  }
}

/** The config's loss: one loss, or a WeightedSum of its terms (named by their loss names). */
export function buildLoss(config: RunConfig, ignoreIndex: number, source: string, issues: string[]): L.Loss | null {
  const classes = config.model.classes;
  const one = (spec: Record<string, unknown>, path: string): L.Loss | null => {
    const { name, weight: _w, ...options } = spec;
    try {
      return lossOf(name as LossName, options, classes, ignoreIndex);
    } catch (e) {
      issues.push(passThroughIssue(source, path, e));
      return null;
    }
  };
  const spec = config.loss as { terms?: { name: LossName; weight: number }[] } & Record<string, unknown>;
  if (spec.terms !== undefined) {
    const specs = spec.terms;
    const terms = specs.map((t, i) => one(t, `loss.terms[${i}]`));
    if (terms.some((t) => t === null)) {
      for (const t of terms) t?.dispose();
      return null;
    }
    return L.sum(terms.map((t, i) => ({ weight: specs[i]!.weight, loss: t!, name: specs[i]!.name })));
  }
  return one(spec, 'loss');
}

const OPTIMIZERS = { sgd: SGD, adam: Adam, adamw: AdamW, rmsprop: RMSprop } as const;

/** The optimizer, with `paramGroups` picked by module path and the parameters no group names in a last group. */
export function buildOptimizer(
  config: RunConfig,
  model: Pick<SegmentationModel, 'parameters' | 'namedParameters'>,
  source: string,
  spec: RunConfig['optimizer'] = config.optimizer,
  path = 'optimizer',
): Optimizer<any> {
  const { name, paramGroups, ...defaults } = spec as RunConfig['optimizer'] & { paramGroups?: { params: string | string[] }[] };
  let params: ParamGroupInput[] | ReturnType<SegmentationModel['parameters']> = model.parameters();
  if (paramGroups !== undefined) {
    const named = model.namedParameters();
    const taken = new Set<unknown>();
    const issues: string[] = [];
    const groups: ParamGroupInput[] = paramGroups.map((g, i) => {
      const { params: under, ...options } = g;
      const prefixes = Array.isArray(under) ? under : [under];
      const picked = named.filter(([n, t]) => !taken.has(t) && prefixes.some((p) => n === p || n.startsWith(`${p}.`))).map(([, t]) => t);
      if (picked.length === 0) {
        const top = [...new Set(named.map(([n]) => n.split('.')[0]))];
        issues.push(
          `${source}: ${path}.paramGroups[${i}].params: no parameter of the model is under ${showValue(under)} (its modules: ${top.join(', ')})`,
        );
      }
      for (const t of picked) taken.add(t);
      return { ...options, params: picked };
    });
    if (issues.length > 0) throw new ConfigError(issues);
    const rest = named.filter(([, t]) => !taken.has(t)).map(([, t]) => t);
    params = rest.length > 0 ? [...groups, { params: rest }] : groups;
  }
  try {
    return new OPTIMIZERS[name](params as never, defaults as never);
  } catch (e) {
    throw new ConfigError([passThroughIssue(source, path, e)]);
  }
}

/** data.open for each source; the model's classes and bands are the defaults each source checks its files against. */
