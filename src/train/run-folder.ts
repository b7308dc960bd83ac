// A run's folder: config.json, split.json, log.jsonl, checkpoints, samples.json and report.html.
// Every file but the log is written whole and atomically, so a crash never leaves half a file;
// the log is appended one line per event and a reader tolerates a torn last line.
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeAtomic } from '../torch/serialization/index.js';
import type { TrainEvent } from './events.js';

export const RUN_FILES = {
  config: 'config.json',
  split: 'split.json',
  log: 'log.jsonl',
  last: 'last.safetensors',
  best: 'best.safetensors',
  samples: 'samples.json',
  report: 'report.html',
} as const;

export class RunFolder {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch (e) {
      throw new Error(`Trainer: cannot create the run folder ${this.dir}: ${(e as Error).message}`, { cause: e });
    }
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  /** Writes a JSON file whole (temporary file, fsync, rename). */
  writeJson(name: string, value: unknown): void {
    writeAtomic(this.path(name), [Buffer.from(`${JSON.stringify(value, null, 2)}\n`)], 'Trainer');
  }

  appendEvent(event: TrainEvent): void {
    appendFileSync(this.path(RUN_FILES.log), `${JSON.stringify(event)}\n`);
  }

  has(name: string): boolean {
    return existsSync(this.path(name));
  }
}

/** The events of a run's log.jsonl; a torn last line (a crash mid-write) is skipped. */
export function readEvents(path: string): TrainEvent[] {
  const text = readFileSync(path, 'utf8');
  const out: TrainEvent[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      out.push(JSON.parse(line) as TrainEvent);
    } catch (e) {
      if (i < lines.length - 2) throw new Error(`${path}:${i + 1}: not a JSON event: ${(e as Error).message}`);
    }
  });
  return out;
}
