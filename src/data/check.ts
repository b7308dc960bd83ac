// `segkit data check`: open every sample once and list everything wrong, not only the first.
import { torch } from '../torch/index.js';
import type { Dataset } from './dataset.js';
import { type AnyDataset, type OpenOptions, open } from './open.js';

/** One thing wrong with a dataset: the file and what was expected. */
export interface DataProblem {
  path: string;
  sample?: string;
  message: string;
}

export interface CheckReport {
  path: string;
  format: string | null;
  samples: number;
  /** Samples that decoded and passed every check. */
  ok: number;
  problems: DataProblem[];
  warnings: string[];
  /** Image sizes 'WxH' and band counts, with how many samples have each. */
  sizes: Record<string, number>;
  bands: Record<string, number>;
  /** Pixels per class over the good samples, and the ignored ones. */
  classPixels: number[];
  ignoredPixels: number;
  /** Share of labelled pixels in classes other than 0 (buildings, for a building set). */
  foregroundFraction: number;
  /** Samples without a single foreground pixel. */
  emptyMasks: number;
}

export interface CheckOptions {
  /** Samples decoded at once; default 8. */
  concurrency?: number;
  /** Called after each sample with the count done. */
  onProgress?: (done: number, total: number) => void;
}

function problemOf(err: unknown, fallbackPath: string, sample?: string): DataProblem {
  const e = err as Error & { path?: string };
  const path = typeof e?.path === 'string' ? e.path : fallbackPath;
  const message = String(e?.message ?? err).replace(`${path}: `, '');
  return sample === undefined ? { path, message } : { path, sample, message };
}

/** Checks an opened dataset: every sample decoded, sized, its mask within the classes. */
export async function checkOpened(
  ds: Dataset & { warnings?: string[]; format?: string },
  path: string,
  options: CheckOptions = {},
): Promise<CheckReport> {
  const classes = ds.classes ?? 2;
  const ignore = ds.ignoreIndex ?? 255;
  const report: CheckReport = {
    path,
    format: ds.format ?? null,
    samples: ds.length,
    ok: 0,
    problems: [],
    warnings: [...(ds.warnings ?? [])],
    sizes: {},
    bands: {},
    classPixels: new Array(classes).fill(0),
    ignoredPixels: 0,
    foregroundFraction: 0,
    emptyMasks: 0,
  };
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < ds.length) {
      const i = next++;
      const meta = ds.metaAt?.(i);
      try {
        const s = await ds.get(i);
        try {
          const [c, h, w] = s.image.shape as number[];
          report.sizes[`${w}x${h}`] = (report.sizes[`${w}x${h}`] ?? 0) + 1;
          report.bands[String(c)] = (report.bands[String(c)] ?? 0) + 1;
          const values = torch.tidy(() => s.mask.int().toArray()) as Int32Array;
          let fg = 0;
          for (let p = 0; p < values.length; p++) {
            const v = values[p]!;
            if (v === ignore) report.ignoredPixels++;
            else if (v >= 0 && v < classes) {
              report.classPixels[v]++;
              if (v > 0) fg++;
            }
          }
          if (fg === 0) report.emptyMasks++;
          report.ok++;
        } finally {
          s.image.dispose();
          s.mask.dispose();
        }
      } catch (err) {
        report.problems.push(problemOf(err, meta?.path ?? `sample ${i}`, meta?.name));
      }
      options.onProgress?.(++done, ds.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 8) }, worker));
  const labelled = report.classPixels.reduce((a, b) => a + b, 0);
  report.foregroundFraction = labelled > 0 ? (labelled - report.classPixels[0]!) / labelled : 0;
  report.problems.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return report;
}

/** Opens `path` and checks every sample; a dataset that cannot open is one problem, not a throw. */
export async function checkDataset(path: string, options: OpenOptions & CheckOptions = {}): Promise<CheckReport> {
  const { concurrency, onProgress, ...openOptions } = options as OpenOptions & CheckOptions;
  let ds: AnyDataset;
  try {
    ds = await open(path, openOptions as OpenOptions);
  } catch (err) {
    return {
      path,
      format: (openOptions as { format?: string }).format ?? null,
      samples: 0,
      ok: 0,
      problems: [problemOf(err, path)],
      warnings: [],
      sizes: {},
      bands: {},
      classPixels: [],
      ignoredPixels: 0,
      foregroundFraction: 0,
      emptyMasks: 0,
    };
  }
  try {
    return await checkOpened(ds, path, { concurrency, onProgress });
  } finally {
    if ('close' in ds) await ds.close();
  }
}

/** The report as lines for a terminal. */
export function formatCheckReport(r: CheckReport): string[] {
  const lines = [`${r.path}: ${r.format ?? 'unknown'} layout, ${r.samples} sample(s), ${r.ok} good, ${r.problems.length} bad`];
  const list = (o: Record<string, number>) =>
    Object.entries(o)
      .map(([k, n]) => `${k} (${n})`)
      .join(', ');
  if (r.ok > 0) {
    lines.push(`  sizes: ${list(r.sizes)}; bands: ${list(r.bands)}`);
    lines.push(
      `  foreground pixels: ${(100 * r.foregroundFraction).toFixed(2)}%; empty masks: ${r.emptyMasks}; ignored pixels: ${r.ignoredPixels}`,
    );
  }
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  for (const p of r.problems) lines.push(`  bad: ${p.path}${p.sample ? ` (${p.sample})` : ''}: ${p.message}`);
  return lines;
}
