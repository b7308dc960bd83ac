// The run configuration: one zod schema for what `segkit train --config run.yaml` and
// `train(config)` accept, with every default filled in, so the config.json a run writes shows
// every value it ran with. Objects are strict (a typo is an error, not a silent default);
// options the library reads itself (a model's, an augmentation's, a loss's, a data source's)
// pass through here and are checked by the constructor that takes them (see build.ts).
import { readFile } from 'node:fs/promises';
import YAML from 'yaml';
import * as z from 'zod';
import '../models/index.js';
import { listModels } from '../models/registry.js';
import { listEncoders } from '../models/encoders/registry.js';
import { FORMATS } from '../data/open.js';
import { MONITORS } from './options.js';
import { DESIGNS } from '../models/discriminators/designs.js';
import { ENCODINGS } from '../models/discriminators/encoding.js';
import { ConfigError, formatIssues } from './config-issues.js';
import { fraction, int, positive, strict } from './config-zod.js';
import { Optimizer, Scheduler } from './config-optim.js';

export { ConfigError } from './config-issues.js';
export { OPTIMIZER_NAMES, SCHEDULER_NAMES } from './config-optim.js';

/** Augmentations a config can name (src/data/augment; Normalize is added from data.normalization). */
export const AUGMENT_NAMES = [
  'HorizontalFlip',
  'VerticalFlip',
  'Transpose',
  'RandomRotate90',
  'D4',
  'RandomCrop',
  'CenterCrop',
  'RandomResizedCrop',
  'PadIfNeeded',
  'ShiftScaleRotate',
  'RandomBrightnessContrast',
  'RandomGamma',
  'ColorJitter',
  'HueSaturationValue',
  'GaussNoise',
  'GaussianBlur',
  'OneOf',
  'SomeOf',
  'Compose',
] as const;
export type AugmentName = (typeof AUGMENT_NAMES)[number];

/** Losses by name: dice, jaccard, tversky, focal, lovasz (smp's, in the model's mode), bce (SoftBCEWithLogitsLoss), ce (SoftCrossEntropyLoss), mcc. */
export const LOSS_NAMES = ['dice', 'jaccard', 'tversky', 'focal', 'lovasz', 'bce', 'ce', 'mcc'] as const;
export type LossName = (typeof LOSS_NAMES)[number];

// Architectures whose own default encoder is not smp's resnet34 (null: no encoder options at all).
const ENCODER_DEFAULTS: Record<string, string | null> = {
  deeplabv1: 'vgg16',
  deeplabv2: 'resnet101',
  refinenet: 'resnet101',
  fcn: 'resnet50',
  fcn32s: 'vgg16',
  fcn16s: 'vgg16',
  fcn8s: 'vgg16',
  segnet: 'vgg16_bn',
  'unet-original': null,
};

/** The encoder an architecture builds when none is named (PSPNet's paper variant: resnet50). */
export function defaultEncoder(architecture: string, options: Record<string, unknown> = {}): string | null {
  if (architecture === 'pspnet' && options.variant === 'paper') return 'resnet50';
  return architecture in ENCODER_DEFAULTS ? ENCODER_DEFAULTS[architecture]! : 'resnet34';
}

const Model = z
  .looseObject({
    architecture: z.enum(listModels() as [string, ...string[]]).default('unet'),
    encoderName: z.enum(listEncoders() as [string, ...string[]]).optional(),
    encoderWeights: z
      .string()
      .min(1)
      .nullable()
      .default(null)
      .describe("null (random init), 'imagenet' (the local weights cache) or a weights file"),
    inChannels: int(1).default(3),
    classes: int(1).default(1).describe('1 for a binary (building) model, K for K classes'),
    init: z
      .string()
      .min(1)
      .optional()
      .describe('a checkpoint of segkit train (e.g. models/buildings/model.safetensors) whose weights start this run: fine-tuning'),
  })
  .describe('createModel(architecture, options): any other option of the architecture passes through')
  .transform((m) => {
    const encoderName = m.encoderName ?? defaultEncoder(m.architecture, m);
    return encoderName === null ? m : { ...m, encoderName };
  });

const Source = z.looseObject({
  path: z.string().min(1).describe('a dataset folder or raster, relative to the working directory'),
  format: z.enum(['auto', ...FORMATS]).default('auto'),
});
const SourceOrPath = z.union([z.string().min(1), Source]);
export type SourceConfig = z.output<typeof Source>;
/** One source, a path, or a list of them; resolved to a list of sources. */
const Sources = z
  .union([SourceOrPath, z.array(SourceOrPath).min(1)])
  .transform((v): SourceConfig[] => (Array.isArray(v) ? v : [v]).map((s) => (typeof s === 'string' ? { path: s, format: 'auto' } : s)));

const GroupBy = z.union([
  z.literal('group').describe("meta.group: a source's region folder or raster"),
  strict({ blockZoom: int(0).optional(), blockSize: positive().optional(), units: z.enum(['pixels', 'metres']).optional() }).describe(
    'spatialBlocks options',
  ),
]);
const Split = z.union([
  strict({ valFraction: z.number().gt(0).lt(1), seed: int(0).default(0), groupBy: GroupBy.optional() }),
  strict({ file: z.string().min(1).describe("a split file written by saveSplit (a run folder's split.json)") }),
  strict({ folds: int(2), fold: int(0).default(0).describe('0-based'), seed: int(0).default(0), groupBy: GroupBy.optional() }),
]);

const Data = strict({
  train: Sources,
  val: Sources.optional().describe('validation sources; without them data.split carves the validation set out of train'),
  split: Split.optional(),
  batchSize: int(1).default(8),
  valBatchSize: int(1).optional(),
  prefetch: int(0).optional(),
  normalization: z
    .union([z.enum(['imagenet', 'none']), strict({ mean: z.array(z.number()).min(1), std: z.array(positive()).min(1) })])
    .default('imagenet')
    .describe("'imagenet': the encoder's pretrained mean/std"),
  crop: z
    .union([int(1), z.tuple([int(1), int(1)])])
    .optional()
    .describe('a random crop of this size (or [height, width]) before the augmentations'),
});

const Augment = z.looseObject({ name: z.enum(AUGMENT_NAMES) }).describe("an augmentation's class name and its options");

const LossTerm = z.looseObject({ name: z.enum(LOSS_NAMES), weight: z.number() });
const Loss = z
  .union([z.looseObject({ name: z.enum(LOSS_NAMES) }), strict({ terms: z.array(LossTerm).min(1) })])
  .prefault({ name: 'dice' })
  .describe('{ name, ...options } or a weighted sum { terms: [{ name, weight, ...options }] }');

const Ema = z.union([
  z.boolean(),
  strict({
    decay: z.number().gt(0).lt(1).default(0.999),
    warmup: z.boolean().default(true),
    warmupGamma: positive().optional(),
    warmupPower: positive().optional(),
    minDecay: fraction().optional(),
  }),
]);
const Swa = z.union([
  z.literal(false),
  strict({ start: int(1).describe('1-based epoch'), lr: positive(), annealEpochs: int(0).default(1) }),
]);

// Luc et al. 2016's adversarial training; the adversary has its own optimizer (constant rate).
const Adversarial = strict({
  encoding: z.enum(ENCODINGS).default('product').describe("the adversary's input: basic (image and label map), product or scaling"),
  weight: z.number().min(0).default(0.1).describe("lambda: the adversarial term's weight in the segmenter's loss"),
  discriminator: z.enum(Object.keys(DESIGNS) as [string, ...string[]]).default('largefov'),
  tau: fraction().default(0.9).describe('scaling: the least probability the true class keeps'),
  pretrainSteps: int(0).default(0).describe('batches at the start during which only the adversary learns'),
  optimizer: Optimizer.prefault({ name: 'adam', lr: 1e-4 }),
});

const Run = strict({
  name: z.string().min(1).default('run').describe('the run folder is <output>/<name> (or <name>-2, ... when taken)'),
  seed: int(0).default(0),
  threads: int(1).optional(),
  device: z
    .string()
    .regex(/^(auto|cpu|cuda(:\d+)?)$/, { message: 'expected "auto", "cpu", "cuda" or "cuda:<index>"' })
    .default('auto')
    .describe("where the model trains: 'auto' is the GPU when libtorch has CUDA and one is present, else the CPU"),
  model: Model.prefault({}),
  data: Data,
  augment: z.array(Augment).default([]),
  loss: Loss,
  optimizer: Optimizer.prefault({}),
  scheduler: Scheduler.prefault({}),
  epochs: int(1).default(30),
  accumulate: int(1).default(1),
  clipGradNorm: positive().nullable().default(null),
  autocast: z.boolean().default(false),
  channelsLast: z.boolean().default(false),
  ema: Ema.default(false),
  swa: Swa.default(false),
  validateEvery: int(1).default(1),
  monitor: z.enum(MONITORS).default('dice'),
  earlyStopping: strict({ patience: int(1), minDelta: z.number().min(0).default(0) })
    .nullable()
    .default(null),
  threshold: fraction().default(0.5),
  snapshots: z.boolean().default(false).describe("with scheduler 'cosine-restarts': save snapshot-<epoch>.safetensors at each cycle's end"),
  output: z.string().min(1).default('runs'),
  logEvery: int(1).default(10),
  adversarial: Adversarial.nullable().default(null),
}).superRefine(crossChecks, { when: () => true });

/**
 * Rules that tie fields together. They run even when other fields failed (so every problem is
 * listed at once), hence the value may be partly invalid: each rule looks only at fields that
 * came through as the schema says.
 */
function crossChecks(value: unknown, ctx: z.core.$RefinementCtx<unknown>): void {
  const issue = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  const c = value as Partial<Record<string, any>>;
  const num = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
  const epochs = num(c.epochs) ? c.epochs : null;
  const s = (c.scheduler ?? {}) as Record<string, unknown>;
  const warmup = num(s.warmupEpochs) ? s.warmupEpochs : 0;
  const data = (c.data ?? {}) as Record<string, unknown>;
  if (data.val !== undefined && data.split !== undefined)
    issue(['data', 'split'], 'must be absent when data.val is given (a split carves the validation set out of train)');
  const split = data.split as { folds?: unknown; fold?: unknown } | undefined;
  if (split && num(split.folds) && num(split.fold) && split.fold >= split.folds)
    issue(['data', 'split', 'fold'], `expected an integer below folds (${split.folds}), got ${split.fold}`);
  const swa = c.swa as { start?: unknown } | undefined;
  if (swa && epochs !== null && num(swa.start) && swa.start > epochs)
    issue(['swa', 'start'], `expected an epoch from 1 to epochs (${epochs}), got ${swa.start}`);
  if (c.adversarial && num(c.accumulate) && c.accumulate > 1)
    issue(['accumulate'], `expected 1 with adversarial training (the adversary steps every batch), got ${c.accumulate}`);
  if (warmup > 0 && (s.name === 'plateau' || s.name === 'onecycle'))
    issue(
      ['scheduler', 'warmupEpochs'],
      `expected 0 with "${s.name}" (${s.name === 'onecycle' ? 'it warms up itself, see pctStart' : 'it follows the validation, not the clock'}), got ${warmup}`,
    );
  else if (s.name !== 'none' && epochs !== null && warmup >= epochs)
    issue(['scheduler', 'warmupEpochs'], `expected fewer than epochs (${epochs}), got ${warmup}`);
  if (s.name === 'plateau' && s.interval === 'step')
    issue(['scheduler', 'interval'], 'expected "epoch" with "plateau" (it steps on each validation), got "step"');
  if (c.snapshots === true && s.name !== 'cosine-restarts')
    issue(['snapshots'], `expected false unless scheduler.name is "cosine-restarts" (snapshots are taken at its restarts), got true`);
}

export type RunConfig = z.output<typeof Run>;
/** What a config file may hold: every field optional but data.train. */
export type RunConfigInput = z.input<typeof Run>;

/** The zod schema itself, for tools that compose it. */
export const RunConfigSchema = Run;

/** Validates a config and fills in its defaults; throws a ConfigError listing every problem, each naming its field. */
export function parseRunConfig(value: unknown, source = 'config'): RunConfig {
  const r = Run.safeParse(value, { reportInput: true });
  if (!r.success) throw new ConfigError(formatIssues(r.error.issues, source));
  return r.data;
}

/** The JSON Schema of a config file (for editors and `segkit train --print-schema`). */
export function runConfigJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(Run, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    ...schema,
    title: 'segkit run configuration',
    description: 'segkit train --config: model, data, augmentation, loss, optimizer, schedule and training options',
  };
}

/** A config file's value: YAML (or JSON, a subset of it); a syntax error names the file, line and column. */
export async function readConfigFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ConfigError([`${path}: cannot read the config: ${(e as Error).message}`]);
  }
  const doc = YAML.parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0)
    throw new ConfigError(
      doc.errors.map((e) => {
        const at = e.linePos?.[0];
        return `${path}${at ? `:${at.line}:${at.col}` : ''}: syntax error: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`;
      }),
    );
  return doc.toJS();
}

/** Reads, applies `overrides` (see applyOverrides) and validates a config file. */
export async function loadRunConfig(path: string, overrides: Overrides = []): Promise<RunConfig> {
  const raw = await readConfigFile(path);
  return applyOverrides(raw, overrides, path);
}

/** `['optimizer.lr=0.01', 'augment[0].p=0.3']` (values read as YAML scalars or flow lists), or `{ 'optimizer.lr': 0.01 }`. */
export type Overrides = readonly string[] | Readonly<Record<string, unknown>>;

/** The keys of a dotted path: `augment[0].p` and `augment.0.p` are both ['augment', 0, 'p']. */
function pathKeys(path: string, flag: string): (string | number)[] {
  const keys: (string | number)[] = [];
  const re = /([^.[\]]+)|\[(\d+)\]/g;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(path)) !== null) {
    keys.push(m[2] !== undefined ? Number(m[2]) : /^\d+$/.test(m[1]!) ? Number(m[1]) : m[1]!);
    consumed += m[0].length;
  }
  if (keys.length === 0 || consumed + (path.match(/\./g)?.length ?? 0) !== path.length)
    throw new ConfigError([`${flag}: expected a dotted path such as optimizer.lr or augment[0].p, got ${JSON.stringify(path)}`]);
  return keys;
}

/** Sets config values by dotted path and validates the result again (defaults refilled). */
export function applyOverrides(config: unknown, overrides: Overrides, source = 'config'): RunConfig {
  const entries: [string, unknown][] = Array.isArray(overrides)
    ? (overrides as readonly string[]).map((o) => {
        const eq = typeof o === 'string' ? o.indexOf('=') : -1;
        if (eq <= 0) throw new ConfigError([`--set: expected path=value (optimizer.lr=0.01), got ${JSON.stringify(o)}`]);
        let value: unknown;
        try {
          value = YAML.parse(o.slice(eq + 1));
        } catch (e) {
          throw new ConfigError([`--set ${o}: the value does not parse as YAML: ${(e as Error).message.split('\n')[0]}`]);
        }
        return [o.slice(0, eq), value];
      })
    : Object.entries(overrides as Record<string, unknown>);
  const root: Record<string, unknown> = config === undefined || config === null ? {} : structuredClone(config as Record<string, unknown>);
  if (typeof root !== 'object' || Array.isArray(root))
    throw new ConfigError([`${source}: expected a mapping (key: value) at the top, got ${JSON.stringify(config)}`]);
  for (const [path, value] of entries) {
    const keys = pathKeys(path, `--set ${path}`);
    let node: Record<string | number, unknown> = root;
    keys.forEach((k, i) => {
      if (i === keys.length - 1) {
        node[k] = value;
        return;
      }
      const next = node[k];
      if (next === undefined || next === null) node[k] = typeof keys[i + 1] === 'number' ? [] : {};
      else if (typeof next !== 'object')
        throw new ConfigError([
          `--set ${path}: ${keys.slice(0, i + 1).join('.')} is ${JSON.stringify(next)}, not a mapping or list to set a field in`,
        ]);
      node = node[k] as Record<string | number, unknown>;
    });
  }
  return parseRunConfig(root, source);
}
