// Training from a config, the function behind `segkit train`: pick the run folder, build, fit,
// free. Also resuming a run from its folder and training every fold of a k-fold split.
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { type RunConfig, ConfigError, parseRunConfig } from './config.js';
import { buildRun, type BuildOptions } from './build.js';
import { readCheckpointInfo } from './checkpoint.js';
import { RUN_FILES, RunFolder } from './run-folder.js';
import { Trainer, type TrainResult } from './trainer.js';

export type TrainOptions = BuildOptions;

/** `<output>/<name>`, or `<name>-2`, `<name>-3`, ... when that folder exists and is not empty. */
export function freshRunDir(output: string, name: string): string {
  const taken = (dir: string) => existsSync(dir) && readdirSync(dir).length > 0;
  let dir = join(output, name);
  for (let n = 2; taken(dir); n++) dir = join(output, `${name}-${n}`);
  return dir;
}

/** A run to continue: its config (config.json beside the checkpoint, else the one inside it), folder and checkpoint. */
export async function resumeTarget(path: string): Promise<{ config: RunConfig; runDir: string; checkpoint: string }> {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new ConfigError([`--resume: no run folder or checkpoint at ${path}`]);
  }
  const runDir = resolve(isDir ? path : dirname(path));
  const checkpoint = isDir ? join(runDir, RUN_FILES.last) : resolve(path);
  if (!existsSync(checkpoint))
    throw new ConfigError([`--resume: ${runDir} holds no ${RUN_FILES.last} to continue from (was the run started with this folder?)`]);
  const file = join(runDir, RUN_FILES.config);
  if (existsSync(file)) return { config: parseRunConfig(JSON.parse(await readFile(file, 'utf8')), file), runDir, checkpoint };
  const saved = (readCheckpointInfo(checkpoint).config as { run?: unknown } | null)?.run;
  if (saved === undefined || saved === null)
    throw new ConfigError([`--resume: neither ${file} nor the checkpoint ${checkpoint} holds the run's config`]);
  return { config: parseRunConfig(saved, checkpoint), runDir, checkpoint };
}

/**
 * Builds the run a config describes and trains it. The run folder is `options.runDir`, the
 * folder of `options.resume` (a run folder or its last.safetensors), or a fresh
 * `<output>/<name>`. Resolves with the Trainer's result; a non-finite loss rejects with
 * NonFiniteLossError after the run's end event.
 */
export async function train(config: RunConfig | unknown, options: TrainOptions = {}): Promise<TrainResult> {
  const c = parseRunConfig(config, options.source);
  let { runDir, resume } = options;
  if (resume !== undefined) {
    const isDir = existsSync(resume) && statSync(resume).isDirectory();
    runDir ??= isDir ? resume : dirname(resume);
    if (isDir) resume = join(resume, RUN_FILES.last);
  }
  runDir ??= freshRunDir(c.output, c.name);
  const run = await buildRun(c, { ...options, runDir, resume });
  // A resumed run writes no config.json of its own: record what it continues with (more epochs).
  if (resume !== undefined) new RunFolder(runDir).writeJson(RUN_FILES.config, run.config);
  try {
    return await new Trainer(run.trainerOptions).fit();
  } finally {
    run.dispose();
  }
}

export interface FoldResult {
  fold: number;
  runDir: string;
  result: TrainResult;
  /** The best monitored value of the fold (NaN when it never validated). */
  value: number;
}

export interface FoldsResult {
  monitor: string;
  folds: FoldResult[];
  /** Mean and population standard deviation (numpy's std) of the folds' best values. */
  mean: number;
  std: number;
  runDir: string;
}

/**
 * Trains fold 0..k-1 of a k-fold split of data.train, each into `<runDir>/fold-<k>`, and
 * writes `<runDir>/folds.json` with the per-fold values and their mean and std. The split's
 * seed and groupBy come from data.split when it is a fold or random split, else the run's seed.
 */
export async function trainFolds(config: RunConfig | unknown, options: TrainOptions & { folds?: number } = {}): Promise<FoldsResult> {
  const { folds: given, ...rest } = options;
  const c = parseRunConfig(config, options.source);
  const source = options.source ?? 'config';
  if (c.data.val !== undefined)
    throw new ConfigError([`${source}: data.val: must be absent for k-fold training (the folds split data.train)`]);
  const s = c.data.split;
  const k = given ?? (s && 'folds' in s ? s.folds : undefined);
  if (k === undefined || !Number.isInteger(k) || k < 2)
    throw new ConfigError([`${source}: folds: expected an integer >= 2 (give --folds or data.split.folds), got ${k}`]);
  const seed = s && 'seed' in s ? s.seed : c.seed;
  const groupBy = s && 'groupBy' in s ? s.groupBy : undefined;
  const runDir = resolve(rest.runDir ?? freshRunDir(c.output, c.name));
  const out: FoldResult[] = [];
  for (let fold = 0; fold < k; fold++) {
    const split = { folds: k, fold, seed, ...(groupBy === undefined ? {} : { groupBy }) };
    const foldConfig = { ...c, name: `${c.name}-fold-${fold}`, data: { ...c.data, split } };
    const dir = join(runDir, `fold-${fold}`);
    const result = await train(foldConfig, { ...rest, runDir: dir, resume: undefined });
    out.push({ fold, runDir: dir, result, value: result.best?.value ?? Number.NaN });
    if (result.reason === 'interrupted') break;
  }
  const values = out.map((f) => f.value).filter(Number.isFinite);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
  const summary: FoldsResult = { monitor: c.monitor, folds: out, mean, std, runDir };
  writeFileSync(
    join(runDir, 'folds.json'),
    `${JSON.stringify({ monitor: c.monitor, mean, std, folds: out.map((f) => ({ fold: f.fold, runDir: f.runDir, value: f.value, reason: f.result.reason, best: f.result.best })) }, null, 2)}\n`,
  );
  return summary;
}
