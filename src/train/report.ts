// report.html: one self-contained page that shows a person how a run went (status, best scores,
// loss, metric, learning-rate and throughput plots, confusion counts, the best and worst
// validation images, timings, machine and config), built from the run folder's files alone so
// that it can be rewritten at every epoch end and by `segkit report` on a finished run.
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { writeAtomic } from '../torch/serialization/index.js';
import { invalidParameterError, is, readOptions } from '../validate.js';
import type { StartEvent, TrainEvent } from './events.js';
import { renderPage, type SamplesFile } from './report-html.js';
import { summarise } from './report-summary.js';
import { RUN_FILES, readEvents } from './run-folder.js';

export type { SamplesFile } from './report-html.js';
export type { SampleItem } from './samples.js';
export { summarise, type RunSummary, type RunStatus } from './report-summary.js';

/** What a report is made of: a run's events and, when there, its config and samples. */
export interface ReportData {
  /** The run's events in log order (log.jsonl). */
  events: readonly TrainEvent[];
  /** The page's heading (default 'training run'). */
  title?: string;
  /** The run's config (config.json; default: the last start event's). */
  config?: unknown;
  /** samples.json. */
  samples?: SamplesFile | null;
  /** When the page is written, shown in its footer (default now). */
  generated?: string;
}

export interface ReportOptions {
  /** The page's heading (default: the run folder's name). */
  title?: string;
}

/** The report page for `data`, as a string. Reads no run file: tests and tools feed it events. */
export function renderReport(data: ReportData): string {
  if (!is.object(data) || !Array.isArray(data.events))
    throw invalidParameterError('renderReport', 'data', 'an object with an events array', data);
  const events = data.events.filter((e) => is.object(e) && is.string(e.type));
  const config = data.config ?? lastStartConfig(events);
  return renderPage({
    title: is.string(data.title) && data.title !== '' ? data.title : 'training run',
    summary: summarise(events),
    config,
    samples: data.samples ?? null,
    generated: data.generated ?? new Date().toISOString(),
  });
}

function lastStartConfig(events: readonly TrainEvent[]): unknown {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    if (e.type === 'start' && (e as StartEvent).config !== undefined) return (e as StartEvent).config;
  }
  return undefined;
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`writeReport: cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** The report's inputs from a run folder: log.jsonl (required), config.json and samples.json (optional). */
export function readRun(runDir: string, options?: ReportOptions): ReportData {
  const where = 'writeReport';
  if (!is.string(runDir) || runDir === '') throw invalidParameterError(where, 'runDir', 'a run folder path', runDir);
  const o = readOptions(where, options, ['title']);
  const dir = resolve(runDir);
  const log = join(dir, RUN_FILES.log);
  if (!existsSync(log)) throw new Error(`${where}: ${dir} has no ${RUN_FILES.log}: is it a run folder?`);
  const events = readEvents(log);
  const configPath = join(dir, RUN_FILES.config);
  const samplesPath = join(dir, RUN_FILES.samples);
  const samples = existsSync(samplesPath) ? readJson(samplesPath) : null;
  return {
    events,
    title: o.has('title') ? o.string('title') : basename(dir),
    config: existsSync(configPath) ? readJson(configPath) : undefined,
    samples: is.object(samples) && Array.isArray(samples.items) ? (samples as unknown as SamplesFile) : null,
  };
}

/**
 * Writes `<runDir>/report.html` from the run folder (whole, through a temporary file and a
 * rename, so a browser never sees half a page) and returns its path.
 */
export async function writeReport(runDir: string, options?: ReportOptions): Promise<string> {
  const html = renderReport(readRun(runDir, options));
  const path = join(resolve(runDir), RUN_FILES.report);
  writeAtomic(path, [Buffer.from(html, 'utf8')], 'writeReport');
  return path;
}
