// What `segkit train` shows while it runs: a bar per epoch on a terminal's stderr (plain lines
// every ~10% of an epoch when stderr is a file or a pipe), a summary line per epoch, and the
// end lines; `--quiet` keeps the end lines only, `--json` prints every event as one JSON line.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import cliProgress from 'cli-progress';
import type { EndEvent, EpochEvent, EvalMetrics, StartEvent, StepEvent, TrainEvent } from '../train/events.js';

export type ProgressMode = 'human' | 'quiet' | 'json';

export interface ProgressOptions {
  mode: ProgressMode;
  /** Summary and end lines, JSON events (default process.stdout). */
  out?: NodeJS.WritableStream;
  /** Bars and plain progress lines (default process.stderr). */
  err?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Draw bars (default: whether `err` is a terminal). */
  tty?: boolean;
}

const f4 = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(4));

/** `1h 02m`, `3m 05s`, `12s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '-';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** The held-out scores of an evaluation as one line. */
export function metricsLine(m: EvalMetrics): string {
  const parts = [
    `iou ${f4(m.iou)}`,
    `dice ${f4(m.dice)}`,
    `precision ${f4(m.precision)}`,
    `recall ${f4(m.recall)}`,
    `tianchi ${f4(m.tianchi)}`,
    `objectF1 ${f4(m.objectF1)}`,
  ];
  return m.loss === undefined ? parts.join('  ') : `loss ${f4(m.loss)}  ${parts.join('  ')}`;
}

export class Progress {
  private readonly out: NodeJS.WritableStream;
  private readonly err: NodeJS.WritableStream;
  private readonly tty: boolean;
  private bar: cliProgress.SingleBar | null = null;
  private start: StartEvent | null = null;
  private nextPlain = 0;
  private epoch = -1;
  private epochSeconds = 0;
  private epochSteps = 0;
  private bestAt = 0;
  /** The last step trained: where an interruption happened. */
  lastStep: StepEvent | null = null;
  end: EndEvent | null = null;

  constructor(readonly options: ProgressOptions) {
    this.out = options.out ?? process.stdout;
    this.err = options.err ?? process.stderr;
    this.tty = options.tty ?? Boolean((this.err as { isTTY?: boolean }).isTTY);
  }

  /** Takes every event of a run (pass as the Trainer's onEvent). */
  readonly handle = (e: TrainEvent): void => {
    if (e.type === 'step') this.lastStep = e;
    if (e.type === 'end') this.end = e;
    if (this.options.mode === 'json') {
      this.out.write(`${JSON.stringify(e)}\n`);
      return;
    }
    switch (e.type) {
      case 'start':
        this.start = e;
        if (this.options.mode === 'human') this.onStart(e);
        break;
      case 'step':
        if (this.options.mode === 'human') this.onStep(e);
        break;
      case 'validation':
        if (e.best) this.bestAt = e.epoch;
        break;
      case 'epoch':
        this.stopBar();
        if (this.options.mode === 'human') this.out.write(`${this.epochLine(e)}\n`);
        break;
      case 'end':
        this.stopBar();
        for (const line of this.endLines(e)) this.out.write(`${line}\n`);
        break;
      case 'checkpoint':
        break;
    }
  };

  /** Stops a bar left drawing (an error mid-epoch). */
  close(): void {
    this.stopBar();
  }

  private onStart(e: StartEvent): void {
    const resumed = e.resumedFrom ? `, resumed from ${e.resumedFrom} at epoch ${e.epoch}` : '';
    this.out.write(
      `training ${e.trainImages} image(s)${e.valImages ? `, validating on ${e.valImages}` : ', no validation set'}: ${e.batchesPerEpoch} batch(es) per epoch, ${e.epochs} epoch(s)${resumed}; ${e.machine.threads} thread(s) on ${e.machine.cpus}\n`,
    );
  }

  private onStep(e: StepEvent): void {
    const epochs = this.start?.epochs ?? e.epoch;
    const tenth = Math.max(1, Math.ceil(e.batches / 10));
    if (e.epoch !== this.epoch) {
      // A new epoch, or the first one after a resume that may start mid-epoch.
      this.epoch = e.epoch;
      this.epochSeconds = 0;
      this.epochSteps = 0;
      this.nextPlain = tenth * Math.ceil(e.batch / tenth);
    }
    this.epochSeconds += e.seconds;
    this.epochSteps += 1;
    const a = e.adversarial;
    // Adversarial runs: the adversarial term, the adversary's loss and accuracy (running means).
    const adv = a
      ? ` | ${a.pretraining ? 'pre-training D: ' : ''}adv ${f4(a.loss)} D ${f4(a.discriminatorLoss)} acc ${f4(a.discriminatorAccuracy)}`
      : '';
    const payload = { epoch: e.epoch, epochs, loss: f4(e.runningLoss), dice: f4(e.runningDice), ips: e.imagesPerSecond.toFixed(1), adv };
    if (this.tty) {
      if (this.bar === null) {
        this.bar = new cliProgress.SingleBar(
          {
            format: 'epoch {epoch}/{epochs} [{bar}] {value}/{total} | loss {loss} | dice {dice}{adv} | {ips} img/s | ETA {eta_formatted}',
            stream: this.err,
            clearOnComplete: true,
            hideCursor: true,
            barsize: 24,
          },
          cliProgress.Presets.shades_classic,
        );
        this.bar.start(e.batches, e.batch - 1, payload);
      }
      this.bar.update(e.batch, payload);
      return;
    }
    if (e.batch < this.nextPlain && e.batch !== e.batches) return;
    while (this.nextPlain <= e.batch) this.nextPlain += tenth;
    const eta = (this.epochSeconds / this.epochSteps) * (e.batches - e.batch);
    const pct = Math.round((100 * e.batch) / e.batches);
    this.err.write(
      `epoch ${e.epoch}/${epochs} ${pct}% ${e.batch}/${e.batches}  loss ${payload.loss}  dice ${payload.dice}${adv}  ${payload.ips} img/s  ETA ${formatDuration(eta)}\n`,
    );
  }

  private stopBar(): void {
    if (this.bar === null) return;
    this.bar.stop();
    this.bar = null;
  }

  private epochLine(e: EpochEvent): string {
    const v = e.validation;
    const val = v
      ? ` | val ${v.loss === undefined ? '' : `loss ${f4(v.loss)} `}dice ${f4(v.dice)} iou ${f4(v.iou)} tianchi ${f4(v.tianchi)} objectF1 ${f4(v.objectF1)}`
      : '';
    const star = v && this.bestAt === e.epoch ? ' *' : '';
    const a = e.adversarial;
    const adv = a ? ` | adv ${f4(a.loss)} D ${f4(a.discriminatorLoss)} acc ${f4(a.discriminatorAccuracy)}` : '';
    return `epoch ${e.epoch}/${e.epochs}  loss ${f4(e.trainLoss)} dice ${f4(e.trainDice)}${adv}${val} | lr ${e.lr.toExponential(2)} | ${formatDuration(e.seconds)}, ${e.imagesPerSecond.toFixed(1)} img/s${star}`;
  }

  private endLines(e: EndEvent): string[] {
    const lines = [`${e.reason === 'completed' ? 'done' : e.reason}: ${e.message} (${formatDuration(e.seconds)})`];
    if (e.best)
      lines.push(
        `best ${e.best.monitor} ${f4(e.best.value)} at epoch ${e.best.epoch}${e.best.metrics ? `: ${metricsLine(e.best.metrics)}` : ''}`,
      );
    if (e.checkpoint) {
      const dir = dirname(e.checkpoint);
      const files = ['report.html', 'log.jsonl', 'best.safetensors', 'last.safetensors'].filter((f) => existsSync(join(dir, f)));
      lines.push(`run folder ${dir}: ${files.join(', ').replace('best.safetensors', 'best.safetensors (the best epoch)') || 'empty'}`);
      if (files.includes('report.html')) lines.push(`report: ${join(dir, 'report.html')} (open it in a browser)`);
    }
    return lines;
  }
}
