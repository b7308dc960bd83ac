// Where a run's events go: the callbacks, the user's onEvent, log.jsonl (step events thinned to
// every logEvery-th) and, at epoch ends, the report. A failing report never stops training: it
// is rewritten at the next epoch, and the failure is said once on stderr.
import type { Callback, TrainEvent } from './events.js';
import type { Resolved } from './options.js';
import type { RunFolder } from './run-folder.js';

const HOOKS: Record<TrainEvent['type'], keyof Callback> = {
  start: 'onStart',
  step: 'onStepEnd',
  validation: 'onValidationEnd',
  epoch: 'onEpochEnd',
  checkpoint: 'onCheckpoint',
  end: 'onEnd',
};

export class Emitter {
  private reportFailed = false;

  constructor(
    private readonly options: Resolved,
    private readonly folder: RunFolder | null,
  ) {}

  async emit(event: TrainEvent): Promise<void> {
    const o = this.options;
    if (this.folder && (event.type !== 'step' || event.batch % o.logEvery === 0 || event.batch === event.batches))
      this.folder.appendEvent(event);
    o.onEvent?.(event);
    const hook = HOOKS[event.type];
    for (const cb of o.callbacks) {
      const fn = cb[hook] as ((e: TrainEvent) => void | Promise<void>) | undefined;
      if (typeof fn === 'function') await fn.call(cb, event);
    }
  }

  /** Rewrites report.html from the run folder. */
  async report(): Promise<void> {
    if (!this.folder || !this.options.report) return;
    try {
      const { writeReport } = await import('./report.js');
      await writeReport(this.folder.dir);
    } catch (e) {
      if (!this.reportFailed) process.stderr.write(`segkit: could not write the report: ${(e as Error).message}\n`);
      this.reportFailed = true;
    }
  }
}
