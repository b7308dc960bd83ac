// Train/val splits by sample NAME, so a run can be repeated from a saved file whatever order a
// dataset lists its samples in. Grouped splits keep every group on one side: a region folder
// (meta.group), or a spatial block, so that overlapping ground (a z19 tile and its z20/z21
// children, neighbouring windows of one raster) never leaks from train into val.
import { readFile, writeFile } from 'node:fs/promises';
import { checkInt, checkNumber, invalidParameterError, outOfRangeError, readOptions, show } from '../validate.js';
import type { Dataset, SampleMeta } from './dataset.js';
import { Random } from './random.js';
import { Subset } from './subset.js';

/** Names on each side of a split: always 'train' and 'val', others ('test') when asked for. */
export type SplitSides = { train: string[]; val: string[] } & Record<string, string[]>;

/** A split as `saveSplit` writes it and `loadSplit` reads it back. */
export interface Split {
  /** What made it: 'randomSplit', 'kFold' or a caller's word. */
  method: string;
  seed: number;
  sides: SplitSides;
  /** What else made it: the fold and k of a kFold split, the grouping and its block size. */
  params?: Record<string, number | string | boolean>;
}

/** A grouping key per sample, in the source's order, and how it was made (kept in the split's params). */
export interface Groups {
  readonly by: string;
  readonly keys: readonly string[];
  readonly params?: Readonly<Record<string, number | string>>;
}

/** Groups as the split functions take them: `'group'` reads meta.group, or one key per sample, or `spatialBlocks(...)`. */
export type GroupBy = 'group' | readonly string[] | Groups;

/** What a split is made from: a dataset with `metaAt`, or the sample names. */
export type SplitSource = Dataset | readonly string[];

interface Source {
  names: string[];
  meta: ((i: number) => SampleMeta) | null;
}

export function readSource(where: string, source: SplitSource): Source {
  if (Array.isArray(source)) {
    source.forEach((n, i) => {
      if (typeof n !== 'string' || n === '') throw invalidParameterError(where, `names[${i}]`, 'a non-empty string', n);
    });
    return { names: [...source], meta: null };
  }
  const d = source as Dataset;
  if (typeof d !== 'object' || d === null || typeof d.length !== 'number')
    throw invalidParameterError(where, 'source', 'a Dataset or an array of sample names', source);
  if (typeof d.metaAt !== 'function')
    throw invalidParameterError(where, 'source', 'a Dataset with metaAt(index), so its samples can be split by name', source);
  const meta = (i: number) => d.metaAt!(i);
  return { names: Array.from({ length: d.length }, (_, i) => meta(i).name), meta };
}

function checkUnique(where: string, names: readonly string[], what = 'names', expected = 'unique (a split goes by name)'): void {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const n of names) (seen.has(n) ? twice : seen).add(n);
  if (twice.size > 0) throw invalidParameterError(where, what, expected, [...twice]);
}

/** The group key of each sample. */
function readGroups(
  where: string,
  source: Source,
  groups: GroupBy | undefined,
): { keys: string[]; params: Record<string, number | string> } {
  const n = source.names.length;
  if (groups === undefined) return { keys: source.names, params: {} };
  if (groups === 'group') {
    if (source.meta === null)
      throw invalidParameterError(
        where,
        'groups',
        "per-name keys or spatialBlocks(names) when splitting names ('group' reads meta.group of a dataset)",
        groups,
      );
    const keys = source.names.map((name, i) => {
      const g = source.meta!(i).group;
      if (typeof g !== 'string')
        throw new TypeError(`${where}: groups 'group' needs meta.group on every sample, sample '${name}' has ${show(g)}`);
      return g;
    });
    return { keys, params: { groupBy: 'group' } };
  }
  const keys = Array.isArray(groups) ? groups : (groups as Groups).keys;
  if (!Array.isArray(keys) || keys.length !== n || !keys.every((k) => typeof k === 'string'))
    throw invalidParameterError(where, 'groups', `'group', spatialBlocks(...) or an array of ${n} strings (one per sample)`, groups);
  if (Array.isArray(groups)) return { keys: [...keys], params: { groupBy: 'keys' } };
  const g = groups as Groups;
  return { keys: [...keys], params: { groupBy: g.by, ...g.params } };
}

/**
 * Assigns groups, in the order given, each to the side furthest below its target size. Single
 * samples meet integer targets exactly; groups overshoot a side by less than the largest group.
 */
function assign(order: readonly string[][], targets: readonly number[]): string[][] {
  const sides = targets.map(() => [] as string[]);
  for (const members of order) {
    let best = 0;
    for (let s = 1; s < targets.length; s++) if (targets[s]! - sides[s]!.length > targets[best]! - sides[best]!.length) best = s;
    sides[best]!.push(...members);
  }
  return sides;
}

/** Sample names grouped by key, the groups in a seeded random order. */
function shuffledGroups(names: readonly string[], keys: readonly string[], random: Random): string[][] {
  const byKey = new Map<string, string[]>();
  names.forEach((name, i) => {
    const list = byKey.get(keys[i]!);
    if (list) list.push(name);
    else byKey.set(keys[i]!, [name]);
  });
  return random.shuffle([...byKey.values()]);
}

/** Sizes that sum to n, each within 1 of n * fraction (largest remainders get the spare ones). */
function sizesOf(n: number, fractions: readonly number[]): number[] {
  const exact = fractions.map((f) => n * f);
  const sizes = exact.map(Math.floor);
  let spare = n - sizes.reduce((a, b) => a + b, 0);
  const order = exact.map((_, i) => i).sort((a, b) => exact[b]! - sizes[b]! - (exact[a]! - sizes[a]!) || a - b);
  for (const i of order) {
    if (spare <= 0) break;
    if (fractions[i]! > 0) {
      sizes[i]!++;
      spare--;
    }
  }
  return sizes;
}

const ARRAY_SIDES = ['train', 'val', 'test'];

function readFractions(where: string, fractions: unknown, n: number): { names: string[]; sizes: number[] } {
  let names: string[];
  let values: unknown[];
  if (Array.isArray(fractions)) {
    if (fractions.length < 2 || fractions.length > 3)
      throw outOfRangeError(
        where,
        'fractions',
        'an array of 2 or 3 numbers (train, val[, test]) or an object { train, val, ... }',
        fractions,
      );
    names = ARRAY_SIDES.slice(0, fractions.length);
    values = fractions;
  } else if (typeof fractions === 'object' && fractions !== null) {
    names = Object.keys(fractions);
    values = Object.values(fractions);
    if (!names.includes('train') || !names.includes('val'))
      throw invalidParameterError(where, 'fractions', "an object with 'train' and 'val' (and any other sides)", fractions);
    for (const reserved of RESERVED)
      if (names.includes(reserved))
        throw invalidParameterError(where, `fractions.${reserved}`, 'absent (a reserved key of split files)', fractions);
  } else {
    throw invalidParameterError(where, 'fractions', 'an array of fractions or an object { train, val, ... }', fractions);
  }
  const nums = values.map((v, i) => checkNumber(where, `fractions.${names[i]}`, v, { min: 0 }));
  const sum = nums.reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) <= 1e-6)
    return {
      names,
      sizes: sizesOf(
        n,
        nums.map((v) => v / sum),
      ),
    };
  if (nums.every(Number.isInteger) && sum === n) return { names, sizes: nums };
  throw outOfRangeError(where, 'fractions', `fractions summing to 1 (or counts summing to the ${n} samples)`, fractions);
}

/** Options of `randomSplit`. */
export interface RandomSplitOptions {
  /** Seed of the random order (default 0). */
  seed?: number;
  /** Keep each group on one side. */
  groups?: GroupBy;
}

/**
 * Splits samples at random (torch.utils.data.random_split, by name). `fractions` is
 * `[0.8, 0.2]` (sides train, val[, test]), `{ train: 0.8, val: 0.2 }` or counts summing to the
 * number of samples. Without groups each side's size is within 1 of its fraction; with groups
 * no group straddles two sides.
 */
export function randomSplit(
  source: SplitSource,
  fractions: readonly number[] | Record<string, number>,
  options?: RandomSplitOptions,
): Split {
  const where = 'randomSplit';
  const src = readSource(where, source);
  checkUnique(where, src.names);
  const o = readOptions(where, options, ['seed', 'groups']);
  const seed = o.int('seed', 0, {});
  const { keys, params } = readGroups(where, src, o.get('groups') as GroupBy | undefined);
  const { names, sizes } = readFractions(where, fractions, src.names.length);
  const sides = assign(shuffledGroups(src.names, keys, Random.derive(seed, where)), sizes);
  return { method: where, seed, sides: Object.fromEntries(names.map((n, i) => [n, sides[i]!])) as SplitSides, params };
}

/** Options of `kFold`. */
export interface KFoldOptions {
  seed?: number;
  groups?: GroupBy;
}

/**
 * k folds (scikit-learn's KFold with shuffle, or GroupKFold with groups): split i holds fold i
 * as val and the rest as train. Every sample is in exactly one val side.
 */
export function kFold(source: SplitSource, k: number, options?: KFoldOptions): Split[] {
  const where = 'kFold';
  const src = readSource(where, source);
  checkUnique(where, src.names);
  checkInt(where, 'k', k, { min: 2 });
  const o = readOptions(where, options, ['seed', 'groups']);
  const seed = o.int('seed', 0, {});
  const { keys, params } = readGroups(where, src, o.get('groups') as GroupBy | undefined);
  const order = shuffledGroups(src.names, keys, Random.derive(seed, where));
  if (order.length < k)
    throw outOfRangeError(where, 'k', `at most ${order.length} (the number of ${params.groupBy ? 'groups' : 'samples'})`, k);
  // Equal targets make the side furthest below its target the lightest fold (GroupKFold's rule),
  // so the first k groups open the k folds and no fold stays empty.
  const folds = assign(order, new Array<number>(k).fill(src.names.length / k));
  return folds.map((val, fold) => ({
    method: where,
    seed,
    sides: { train: folds.filter((_, j) => j !== fold).flat(), val } as SplitSides,
    params: { ...params, k, fold },
  }));
}

/** Checks a split's shape and that its sides hold unique names; `where` and `file` name the caller and the file. */
// Keys of a split file that are not side names.
const RESERVED = ['version', 'method', 'seed', 'params'];

function checkSplit(where: string, value: unknown, file?: string): Split {
  const what = file === undefined ? 'split' : `${file}`;
  const fail = (expected: string, got: unknown): never => {
    throw new TypeError(`${where}: ${what} must be ${expected}, got ${show(got)}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('a split { method, seed, sides }', value);
  const v = value as Record<string, unknown>;
  const sides: Record<string, unknown> =
    file === undefined
      ? (v.sides as Record<string, unknown>)
      : Object.fromEntries(Object.entries(v).filter(([k]) => !RESERVED.includes(k)));
  if (typeof v.method !== 'string') fail('a split whose method is a string', v.method);
  if (!Number.isInteger(v.seed)) fail('a split whose seed is an integer', v.seed);
  if (v.params !== undefined && (typeof v.params !== 'object' || v.params === null || Array.isArray(v.params)))
    fail('a split whose params is an object', v.params);
  if (typeof sides !== 'object' || sides === null) fail('a split with sides { train, val }', sides);
  for (const side of ['train', 'val']) if (!(side in sides)) fail(`a split with a '${side}' side`, Object.keys(sides));
  const all: string[] = [];
  for (const [side, names] of Object.entries(sides)) {
    if (!Array.isArray(names) || !names.every((n) => typeof n === 'string'))
      fail(`a split whose side '${side}' is an array of names`, names);
    all.push(...(names as string[]));
  }
  checkUnique(`${where}: ${what}`, all, 'names', 'on one side each');
  return {
    method: v.method as string,
    seed: v.seed as number,
    sides: sides as SplitSides,
    ...(v.params ? { params: v.params as Split['params'] } : {}),
  };
}

/** Writes a split as JSON: { "version": 1, "method", "seed", "params", "train": [names], "val": [names], ... }. */
export async function saveSplit(path: string, split: Split): Promise<void> {
  if (typeof path !== 'string' || path === '') throw invalidParameterError('saveSplit', 'path', 'a file path', path);
  await writeFile(path, `${JSON.stringify(splitJson(split, 'saveSplit'), null, 2)}\n`);
}

/** The JSON object `saveSplit` writes and `loadSplit` reads, for writers of their own (a run folder's split.json). */
export function splitJson(split: Split, where = 'splitJson'): Record<string, unknown> {
  const s = checkSplit(where, split);
  return { version: 1, method: s.method, seed: s.seed, ...(s.params ? { params: s.params } : {}), ...s.sides };
}

/** Reads a split `saveSplit` wrote, checking its version, its fields and that no name is on two sides. */
export async function loadSplit(path: string): Promise<Split> {
  if (typeof path !== 'string' || path === '') throw invalidParameterError('loadSplit', 'path', 'a file path', path);
  const text = await readFile(path, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SyntaxError(`loadSplit: ${path} must be a JSON split file, got text that does not parse (${(e as Error).message})`);
  }
  const version = (json as Record<string, unknown> | null)?.version;
  if (version !== 1) throw new RangeError(`loadSplit: ${path} must be a split file of version 1, got version ${show(version)}`);
  return checkSplit('loadSplit', json, path);
}

/**
 * The split's sides as subsets of `dataset`, found by name. Throws, naming them, when the
 * dataset lacks any of the split's names; samples the split does not name are left out.
 */
export function applySplit(dataset: Dataset, split: Split): { train: Subset; val: Subset } & Record<string, Subset> {
  const where = 'applySplit';
  const src = readSource(where, dataset);
  checkUnique(where, src.names, "the dataset's sample names", 'unique (a split goes by name)');
  const s = checkSplit(where, split);
  const index = new Map(src.names.map((n, i) => [n, i]));
  const missing = Object.values(s.sides)
    .flat()
    .filter((n) => !index.has(n));
  if (missing.length > 0) {
    const total = Object.values(s.sides).reduce((a, side) => a + side.length, 0);
    throw new RangeError(
      `${where}: the dataset (${src.names.length} samples) lacks ${missing.length} of the split's ${total} names: ${show(missing)} ` +
        `(split by ${s.method}, seed ${s.seed}; was it made from another dataset or version?)`,
    );
  }
  const subset = (names: string[]) =>
    new Subset(
      dataset,
      names.map((n) => index.get(n)!),
    );
  const out = Object.fromEntries(Object.entries(s.sides).map(([side, names]) => [side, subset(names)]));
  return out as { train: Subset; val: Subset } & Record<string, Subset>;
}
