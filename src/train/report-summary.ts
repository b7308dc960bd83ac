// What the report says about a run, derived from its events alone: the status, the epochs, the
// best and last validations, the timings and the series of every plot. A resumed run appends a
// second start to the same log, so an epoch's last event wins and the status is read after the
// last start.
import type {
  EndEvent,
  EndReason,
  EpochEvent,
  EvalMetrics,
  MachineInfo,
  StartEvent,
  StepEvent,
  TrainEvent,
  ValidationEvent,
} from './events.js';

export type RunStatus = 'running' | EndReason;

/** How a plotted number is shown in the legend: the same rules as the page's tables. */
export type ValueFormat = 'metric' | 'loss' | 'lr' | 'rate' | 'percent';

export interface PlotSeries {
  label: string;
  values: (number | null)[];
  color: string;
  format: ValueFormat;
  /** 'y2' puts the series on a second axis at the right. */
  scale?: 'y' | 'y2';
}

export interface PlotSpec {
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  y2Label?: string;
  /** A log10 y axis: losses that span decades (a first validation far off) would flatten the rest. */
  log?: boolean;
  x: number[];
  series: PlotSeries[];
}

export interface BestResult {
  epoch: number;
  value: number;
  monitor: string;
  metrics?: EvalMetrics;
}

export interface Timings {
  /** Mean training seconds per epoch. */
  epochSeconds: number | null;
  /** Mean seconds per validation. */
  validationSeconds: number | null;
  /** The end event's wall time, else the sum of the epochs' and validations' seconds. */
  totalSeconds: number | null;
  totalMeasured: boolean;
  imagesPerSecond: number | null;
  dataWaitFraction: number | null;
}

export interface RunSummary {
  status: RunStatus;
  message: string;
  start: StartEvent | null;
  end: EndEvent | null;
  starts: number;
  machine: MachineInfo | null;
  epochsDone: number;
  epochsTotal: number | null;
  steps: number;
  monitor: string | null;
  best: BestResult | null;
  lastValidation: ValidationEvent | null;
  epochs: EpochEvent[];
  /** The validation metrics of each validated epoch, by epoch. */
  validations: Map<number, EvalMetrics>;
  timings: Timings;
  plots: PlotSpec[];
}

/** The most points a per-step plot draws. */
export const MAX_STEP_POINTS = 2000;

export const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];

/** The validation scores the report plots and tabulates, in order. */
export const METRICS: { key: keyof EvalMetrics; label: string }[] = [
  { key: 'dice', label: 'Dice' },
  { key: 'iou', label: 'IoU' },
  { key: 'precision', label: 'Precision' },
  { key: 'recall', label: 'Recall' },
  { key: 'tianchi', label: 'Tianchi' },
  { key: 'objectF1', label: 'Object F1' },
];

/** A finite number, else null (JSON has no NaN: a non-finite loss is a gap in its plot). */
export function finite(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function mean(values: (number | null)[]): number | null {
  const ok = values.filter((v): v is number => v !== null);
  return ok.length === 0 ? null : ok.reduce((a, b) => a + b, 0) / ok.length;
}

function lastIndex<T>(list: readonly T[], test: (v: T) => boolean): number {
  for (let i = list.length - 1; i >= 0; i--) if (test(list[i]!)) return i;
  return -1;
}

function last<T>(list: readonly T[], test: (v: T) => boolean): T | undefined {
  const i = lastIndex(list, test);
  return i < 0 ? undefined : list[i];
}

function sum(values: (number | null)[]): number {
  return values.reduce<number>((a, b) => a + (b ?? 0), 0);
}

export function summarise(events: readonly TrainEvent[]): RunSummary {
  const lastStartAt = lastIndex(events, (e) => e.type === 'start');
  const start = lastStartAt < 0 ? null : (events[lastStartAt] as StartEvent);
  const endAt = lastIndex(events, (e) => e.type === 'end');
  const end = endAt > lastStartAt ? (events[endAt] as EndEvent) : null;
  const byEpoch = new Map<number, EpochEvent>();
  const validationEvents: ValidationEvent[] = [];
  const bySteps = new Map<number, StepEvent>();
  let stepCount = 0;
  for (const e of events) {
    stepCount = Math.max(stepCount, finite((e as { step?: number }).step) ?? 0);
    // Only numbered events are plotted: the plots' x values must be numbers.
    if (e.type === 'epoch' && finite(e.epoch) !== null) byEpoch.set(e.epoch, e);
    else if (e.type === 'validation' && finite(e.epoch) !== null) validationEvents.push(e);
    else if (e.type === 'step' && finite(e.step) !== null) bySteps.set(e.step, e);
  }
  // A resumed run repeats the steps after its checkpoint: the later ones are the run's.
  const steps = [...bySteps.values()].sort((a, b) => a.step - b.step);
  const epochs = [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
  // An epoch's own validation is the one its epoch event carries; a validation without an epoch
  // event (a run cut between the two) still counts, the latest one winning.
  const validations = new Map<number, EvalMetrics>();
  for (const v of validationEvents) if (!byEpoch.get(v.epoch)?.validation) validations.set(v.epoch, v.metrics);
  for (const e of epochs) if (e.validation) validations.set(e.epoch, e.validation);
  const lastEpoch = epochs.at(-1) ?? null;
  const epochsDone = Math.max(lastEpoch?.epoch ?? 0, end?.epoch ?? 0);
  return {
    status: end ? end.reason : 'running',
    message: end?.message ?? '',
    start,
    end,
    starts: events.filter((e) => e.type === 'start').length,
    machine: start?.machine ?? null,
    epochsDone,
    epochsTotal: start?.epochs ?? lastEpoch?.epochs ?? null,
    steps: stepCount,
    monitor: start?.monitor ?? end?.best?.monitor ?? validationEvents.at(-1)?.monitor ?? null,
    best: bestOf(end, lastEpoch, validationEvents, validations),
    lastValidation: validationEvents.at(-1) ?? null,
    epochs,
    validations,
    timings: timingsOf(epochs, validationEvents, end),
    plots: plotsOf(epochs, validations, steps),
  };
}

function bestOf(
  end: EndEvent | null,
  lastEpoch: EpochEvent | null,
  vals: ValidationEvent[],
  byEpoch: Map<number, EvalMetrics>,
): BestResult | null {
  const flagged = last(vals, (v) => v.best);
  const metricsAt = (epoch: number): EvalMetrics | undefined =>
    last(vals, (v) => v.best && v.epoch === epoch)?.metrics ?? byEpoch.get(epoch) ?? undefined;
  if (end?.best) return { ...end.best, metrics: end.best.metrics ?? metricsAt(end.best.epoch) };
  if (lastEpoch?.best) {
    const monitor = flagged?.monitor ?? vals.at(-1)?.monitor ?? 'dice';
    return { epoch: lastEpoch.best.epoch, value: lastEpoch.best.value, monitor, metrics: metricsAt(lastEpoch.best.epoch) };
  }
  if (flagged) return { epoch: flagged.epoch, value: flagged.value, monitor: flagged.monitor, metrics: flagged.metrics };
  return null;
}

function timingsOf(epochs: EpochEvent[], vals: ValidationEvent[], end: EndEvent | null): Timings {
  const trainSeconds = sum(epochs.map((e) => finite(e.seconds)));
  const images = sum(epochs.map((e) => finite(e.images)));
  const waited = sum(epochs.map((e) => (finite(e.dataWaitFraction) ?? 0) * (finite(e.seconds) ?? 0)));
  const measured = end !== null && finite(end.seconds) !== null;
  const total = measured ? end!.seconds : trainSeconds + sum(vals.map((v) => finite(v.seconds)));
  return {
    epochSeconds: mean(epochs.map((e) => finite(e.seconds))),
    validationSeconds: mean(vals.map((v) => finite(v.seconds))),
    totalSeconds: total > 0 ? total : null,
    totalMeasured: measured,
    imagesPerSecond: trainSeconds > 0 ? images / trainSeconds : null,
    dataWaitFraction: trainSeconds > 0 ? waited / trainSeconds : null,
  };
}

function plotsOf(epochs: EpochEvent[], validations: Map<number, EvalMetrics>, allSteps: StepEvent[]): PlotSpec[] {
  const x = [...new Set([...epochs.map((e) => e.epoch), ...validations.keys()])].sort((a, b) => a - b);
  const byEpoch = new Map(epochs.map((e) => [e.epoch, e]));
  const perEpoch = (f: (e: EpochEvent) => unknown) => x.map((n) => (byEpoch.has(n) ? finite(f(byEpoch.get(n)!)) : null));
  const perVal = (f: (m: EvalMetrics) => unknown) => x.map((n) => (validations.has(n) ? finite(f(validations.get(n)!)) : null));
  const plots: PlotSpec[] = [];
  if (x.length === 0) return plots;
  const loss: PlotSeries[] = [{ label: 'training', values: perEpoch((e) => e.trainLoss), color: COLORS[0]!, format: 'loss' }];
  const valLoss = perVal((m) => m.loss);
  if (valLoss.some((v) => v !== null)) loss.push({ label: 'validation', values: valLoss, color: COLORS[1]!, format: 'loss' });
  const lossValues = loss.flatMap((s) => s.values).filter((v): v is number => v !== null);
  const log = lossValues.length > 0 && lossValues.every((v) => v > 0) && Math.max(...lossValues) > 30 * Math.min(...lossValues);
  plots.push({
    id: 'plot-loss',
    title: 'Loss per epoch',
    xLabel: 'epoch',
    yLabel: log ? 'loss (log scale)' : 'loss',
    ...(log ? { log } : {}),
    x,
    series: loss,
  });
  // Steps are logged every logEvery-th batch; two points make a line worth drawing. A long run
  // is thinned to at most MAX_STEP_POINTS, so the page stays small and quick to draw.
  const every = Math.ceil(allSteps.length / MAX_STEP_POINTS);
  const steps = every > 1 ? allSteps.filter((_, i) => i % every === 0 || i === allSteps.length - 1) : allSteps;
  const stepX = steps.map((s) => s.step);
  const stepsUsable = steps.length >= 2;
  if (stepsUsable)
    plots.push({
      id: 'plot-step-loss',
      title: 'Training loss per step',
      xLabel: 'step',
      yLabel: 'loss',
      x: stepX,
      series: [
        { label: 'batch', values: steps.map((s) => finite(s.loss)), color: '#94a3b8', format: 'loss' },
        { label: 'epoch mean so far', values: steps.map((s) => finite(s.runningLoss)), color: COLORS[0]!, format: 'loss' },
      ],
    });
  if (validations.size > 0)
    plots.push({
      id: 'plot-metrics',
      title: 'Validation metrics',
      xLabel: 'epoch',
      yLabel: 'score',
      x,
      series: METRICS.map((m, i) => ({ label: m.label, values: perVal((v) => v[m.key]), color: COLORS[i]!, format: 'metric' as const })),
    });
  plots.push(
    stepsUsable
      ? {
          id: 'plot-lr',
          title: 'Learning rate per step',
          xLabel: 'step',
          yLabel: 'learning rate',
          x: stepX,
          series: [{ label: 'lr', values: steps.map((s) => finite(s.lr)), color: COLORS[3]!, format: 'lr' }],
        }
      : {
          id: 'plot-lr',
          title: 'Learning rate per epoch',
          xLabel: 'epoch',
          yLabel: 'learning rate',
          x,
          series: [{ label: 'lr', values: perEpoch((e) => e.lr), color: COLORS[3]!, format: 'lr' }],
        },
  );
  if (epochs.some((e) => e.adversarial))
    plots.push({
      id: 'plot-adversarial',
      title: 'Adversarial training',
      xLabel: 'epoch',
      yLabel: 'loss',
      y2Label: 'adversary accuracy',
      x,
      series: [
        { label: "segmenter's adversarial term", values: perEpoch((e) => e.adversarial?.loss), color: COLORS[0]!, format: 'loss' },
        { label: "adversary's loss", values: perEpoch((e) => e.adversarial?.discriminatorLoss), color: COLORS[1]!, format: 'loss' },
        {
          label: "adversary's accuracy",
          values: perEpoch((e) => e.adversarial?.discriminatorAccuracy),
          color: COLORS[4]!,
          format: 'percent',
          scale: 'y2',
        },
      ],
    });
  plots.push({
    id: 'plot-throughput',
    title: 'Throughput',
    xLabel: 'epoch',
    yLabel: 'images/s',
    y2Label: 'data wait',
    x,
    series: [
      { label: 'images/s', values: perEpoch((e) => e.imagesPerSecond), color: COLORS[2]!, format: 'rate' },
      { label: 'data wait', values: perEpoch((e) => e.dataWaitFraction), color: COLORS[4]!, format: 'percent', scale: 'y2' },
    ],
  });
  return plots;
}
