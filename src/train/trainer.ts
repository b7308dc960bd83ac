// The training loop: model, loaders, loss, optimizer and schedule in; events, checkpoints, a
// log and a report out. A run resumes bit-exactly from its last checkpoint, mid-epoch too: the
// loader's order and augmentation depend on (seed, epoch, batch) only, and the checkpoint holds
// the RNG states and the partial epoch's tallies.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { torch, type Tensor } from '../torch/index.js';
import { splitJson } from '../data/split.js';
import { invalidParameterError } from '../validate.js';
import { clipGradNorm_ } from '../torch/optim/clip.js';
import { ModelEma } from '../torch/optim/ema.js';
import { AveragedModel, SWALR, updateBnAsync } from '../torch/optim/swa.js';
import { loadCheckpoint, type Stateful } from './checkpoint.js';
import { saveRunCheckpoint, type CheckpointKind } from './run-checkpoint.js';
import type { EndReason, EpochEvent, StepEvent, TrainEvent, ValidationEvent } from './events.js';
import { evaluate, type EvaluateResult } from './evaluate.js';
import { readTrainerOptions, type Resolved, type TrainerOptions, type TrainLoader } from './options.js';
import { RUN_FILES, RunFolder } from './run-folder.js';
import { Emitter } from './emitter.js';
import { withAveragedWeights } from './eval-weights.js';
import { machineInfo } from './machine.js';
import { writeSamples } from './samples.js';
import {
  addBatch,
  endOf,
  improves,
  epochEvent,
  freshLoopState,
  fmt,
  newTally,
  NonFiniteLossError,
  running,
  type LoopState,
  type TrainResult,
} from './loop-state.js';
import { trainBatch } from './train-batch.js';
import { adversarialBatch, adversarialStats, tallyAdversarial, type AdversarialBatch } from './adversarial.js';

export { NonFiniteLossError, type TrainResult } from './loop-state.js';

/**
 *   const trainer = new Trainer({ model, train, val, loss, optimizer, scheduler, epochs: 20, runDir: 'runs/a' });
 *   const { best } = await trainer.fit();
 */
export class Trainer {
  readonly options: Resolved;
  private readonly folder: RunFolder | null;
  private readonly emitter: Emitter;
  private state: LoopState;
  private stopRequested = false;
  private ema: ModelEma | null = null;
  private swa: AveragedModel | null = null;
  private swaScheduler: SWALR | null = null;
  /** Whether the current epoch is in SWA's phase (the SWA rate replaces the schedule). */
  private inSwa = false;

  constructor(options: TrainerOptions) {
    this.options = readTrainerOptions(options);
    const dir = this.options.runDir;
    // A new run into a folder that holds one would append to its log and overwrite its checkpoints.
    if (dir !== undefined && this.options.resume === undefined) {
      const taken = [RUN_FILES.log, RUN_FILES.last, RUN_FILES.best].filter((f) => existsSync(join(dir, f)));
      if (taken.length > 0)
        throw invalidParameterError(
          'Trainer',
          'runDir',
          `a folder without a run in it (it holds ${taken.join(', ')}: pass resume: '${join(dir, RUN_FILES.last)}' to continue that run, or another runDir)`,
          dir,
          RangeError,
        );
    }
    this.folder = dir === undefined ? null : new RunFolder(dir);
    this.emitter = new Emitter(this.options, this.folder);
    this.state = freshLoopState();
  }

  /** The run folder, when there is one. */
  get runDir(): string | undefined {
    return this.folder?.dir;
  }

  /** Ends the run after the current optimizer step (from a callback, or anywhere). */
  stop(): void {
    this.stopRequested = true;
  }

  /** The weights that are averaged, in a fixed order: parameters then buffers. */
  private averagedTensors(): Tensor[] {
    return [...this.options.model.parameters(), ...this.options.model.buffers()];
  }

  /** What a checkpoint holds besides model, optimizer and scheduler. */
  private extras(): Record<string, Stateful> {
    const loop: Stateful = {
      stateDict: () => structuredClone(this.state),
      loadStateDict: (s: LoopState) => {
        this.state = structuredClone(s);
      },
    };
    const extra: Record<string, Stateful> = { trainer: loop };
    if (this.ema) extra.ema = this.ema;
    if (this.swa) extra.swa = this.swa;
    if (this.swaScheduler) extra.swaScheduler = this.swaScheduler;
    const adv = this.options.adversarial;
    if (adv) {
      extra.discriminator = adv.discriminator;
      extra.discriminatorOptimizer = adv.optimizer;
    }
    return extra;
  }

  private checkpointConfig(weights: 'model' | 'ema' | 'swa'): unknown {
    const p = this.options.predict;
    return { predict: p ? { ...p, threshold: p.threshold ?? this.options.threshold, weights } : null, run: this.options.config ?? null };
  }

  private save(kind: CheckpointKind, file: string, full: boolean, weights: 'model' | 'ema' | 'swa'): void {
    if (!this.folder) return;
    const o = this.options;
    const path = this.folder.path(file);
    saveRunCheckpoint(kind, path, file, {
      model: o.model,
      optimizer: full ? o.optimizer : undefined,
      scheduler: full && o.scheduler ? (o.scheduler as unknown as Stateful) : undefined,
      extra: full ? this.extras() : {},
      epoch: this.state.epoch,
      step: this.state.step,
      config: this.checkpointConfig(weights),
    });
    this.emitter.emit({ type: 'checkpoint', epoch: this.state.epoch, step: this.state.step, kind, path });
  }

  private async validate(epoch: number, weights: 'model' | 'ema' | 'swa'): Promise<ValidationEvent | null> {
    const o = this.options;
    if (!o.val) return null;
    const t0 = performance.now();
    const result: EvaluateResult = await evaluate(o.model, o.val, {
      threshold: o.threshold,
      ignoreIndex: o.ignoreIndex,
      loss: o.loss,
      autocast: o.autocast,
      channelsLast: o.channelsLast,
      samples: this.folder ? o.samples : 0,
    });
    const { best: top, worst, ...metrics } = result;
    try {
      const value = o.monitor === 'loss' ? (metrics.loss ?? Number.NaN) : metrics[o.monitor];
      const better = improves(this.state, value, o.monitor === 'loss', o.earlyStopping?.minDelta ?? 0);
      if (better) {
        this.state.bestValue = value;
        this.state.bestEpoch = epoch;
        this.state.bestMetrics = metrics;
        this.state.badEpochs = 0;
        this.save('best', RUN_FILES.best, false, 'model');
      } else {
        this.state.badEpochs += 1;
      }
      if (this.folder && top && worst) await writeSamples(this.folder.path(RUN_FILES.samples), epoch, top, worst, o.ignoreIndex);
      const event: ValidationEvent = {
        type: 'validation',
        epoch,
        step: this.state.step,
        metrics,
        monitor: o.monitor,
        value,
        best: better,
        seconds: (performance.now() - t0) / 1000,
      };
      void weights;
      await this.emitter.emit(event);
      return event;
    } finally {
      torch.dispose([...(top ?? []), ...(worst ?? [])].flatMap((s) => [s.image, s.truth, s.pred]));
    }
  }

  private lr(): number {
    return this.options.optimizer.paramGroups[0]?.lr ?? Number.NaN;
  }

  /** Where the last good weights are, for the message that ends a run on a non-finite loss. */
  private lastGood(): string {
    if (!this.folder) return 'the model holds the weights of the last good step';
    const last = this.folder.path(RUN_FILES.last);
    return existsSync(last) ? `the last good checkpoint is ${last}` : 'no checkpoint was written yet (none before the first epoch ends)';
  }

  private optimizerStep(): void {
    const o = this.options;
    if (o.clipGradNorm) clipGradNorm_(o.model.parameters(), o.clipGradNorm);
    o.optimizer.step();
    o.optimizer.zeroGrad();
    if (this.ema) this.ema.update(this.averagedTensors());
    if (o.scheduler && o.schedulerInterval === 'step' && !this.inSwa) (o.scheduler as { step(): void }).step();
  }

  /** Trains: returns when the epochs are done, early stopping or stop() ends the run, or the signal aborts it. */
  async fit(): Promise<TrainResult> {
    const o = this.options;
    const started = performance.now();
    if (o.threads !== undefined) torch.setNumThreads(o.threads);
    if (o.allocatorCache !== undefined) torch.cpu.setCacheLimit(o.allocatorCache);
    if (o.ema) this.ema = new ModelEma(this.averagedTensors(), o.ema === true ? { decay: 0.999, warmup: true } : o.ema);
    if (o.swa) {
      this.swa = new AveragedModel(this.averagedTensors());
      this.swaScheduler = new SWALR(o.optimizer, { swaLr: o.swa.lr, annealEpochs: o.swa.annealEpochs ?? 1 });
    }
    if (o.resume !== undefined) {
      const info = loadCheckpoint(o.resume, {
        model: o.model,
        optimizer: o.optimizer,
        scheduler: o.scheduler as unknown as Stateful | undefined,
        extra: this.extras(),
      });
      if (info.epoch !== this.state.epoch) this.state.epoch = info.epoch;
    } else {
      torch.manualSeed(o.seed);
      if (this.folder) {
        if (o.config !== undefined) this.folder.writeJson(RUN_FILES.config, o.config);
        if (o.split !== undefined) this.folder.writeJson(RUN_FILES.split, splitJson(o.split, 'Trainer'));
      }
    }
    if (o.channelsLast) o.model.to({ memoryFormat: 'channelsLast' });
    const batches = o.train.length;
    await this.emitter.emit({
      type: 'start',
      time: new Date().toISOString(),
      epoch: this.state.epoch + 1,
      epochs: o.epochs,
      step: this.state.step,
      batchesPerEpoch: batches,
      trainImages: o.train.dataset?.length ?? batches * (o.train.batchSize ?? 1),
      valImages: o.val ? (o.val.dataset?.length ?? o.val.length * (o.val.batchSize ?? 1)) : 0,
      monitor: o.monitor,
      resumedFrom: o.resume,
      machine: machineInfo(),
      config: o.config,
    });
    let reason: EndReason = 'completed';
    let message = '';
    try {
      while (this.state.epoch < o.epochs) {
        const epoch = this.state.epoch + 1;
        const r = await this.trainEpoch(epoch, o.train);
        if (r !== null) {
          [reason, message] = r;
          break;
        }
        if (this.stopRequested) {
          reason = 'stopped';
          message = `stopped by a callback after epoch ${epoch}`;
          break;
        }
        if (o.earlyStopping && this.state.badEpochs >= o.earlyStopping.patience) {
          reason = 'early-stopping';
          message = `no better ${o.monitor} for ${this.state.badEpochs} validations; best ${fmt(this.state.bestValue)} at epoch ${this.state.bestEpoch}`;
          break;
        }
      }
      if (reason === 'completed' || reason === 'early-stopping') {
        if (this.swa && this.swa.nAveraged > 0) await this.finishSwa();
        message ||= `trained ${this.state.epoch} epochs`;
      }
    } catch (e) {
      // The log and the report say how the run ended; the error itself goes to the caller.
      const nonFinite = e instanceof NonFiniteLossError;
      try {
        await this.end(nonFinite ? 'non-finite-loss' : 'error', (e as Error).message, started);
      } catch {
        // The end could not be recorded either (the same full disk): the first error matters.
      }
      throw e;
    }
    return this.end(reason, message, started);
  }

  private async end(reason: EndReason, message: string, started: number): Promise<TrainResult> {
    const folder = this.folder;
    const { event, result } = endOf(
      this.state,
      this.options.monitor,
      reason,
      message,
      (performance.now() - started) / 1000,
      (useLast) => folder?.path(useLast ? RUN_FILES.last : RUN_FILES.best),
      folder?.dir,
    );
    await this.emitter.emit(event);
    await this.emitter.report();
    this.ema = null;
    this.swa?.dispose();
    this.swa = null;
    return result;
  }

  /** SWA's end: the average into the model, batch-norm statistics recomputed, validated; kept as best when it is. */
  private async finishSwa(): Promise<void> {
    const o = this.options;
    this.swa!.copyTo(this.averagedTensors());
    await updateBnAsync(o.train, o.model, { dispose: true });
    if (this.folder) this.save('snapshot', 'swa.safetensors', false, 'model');
    await this.validate(this.state.epoch, 'swa');
  }

  /** One epoch; returns [reason, message] when the run must end inside it. */
  private async trainEpoch(epoch: number, loader: TrainLoader): Promise<[EndReason, string] | null> {
    const o = this.options;
    o.model.train();
    loader.setEpoch?.(epoch - 1);
    this.inSwa = this.swa !== null && epoch >= o.swa!.start;
    const skip = this.state.batch;
    const t = this.state.tally;
    const batches = loader.length;
    let b = 0;
    const it = loader[Symbol.asyncIterator]();
    try {
      for (;;) {
        const t0 = performance.now();
        const next = await it.next();
        if (next.done) break;
        const { image, mask } = next.value;
        const t1 = performance.now();
        b += 1;
        if (b <= skip) {
          torch.dispose([image, mask]);
          continue;
        }
        const n = image.shape[0]!;
        let r: { loss: number; tp: number; fp: number; fn: number } | AdversarialBatch;
        try {
          r = o.adversarial ? adversarialBatch(o, o.adversarial, this.state.step, image, mask) : trainBatch(o, image, mask);
        } finally {
          torch.dispose([image, mask]);
        }
        if (!Number.isFinite(r.loss)) {
          o.optimizer.zeroGrad();
          throw new NonFiniteLossError(
            `the loss became ${r.loss} at epoch ${epoch}, batch ${b} of ${batches} (step ${this.state.step + 1}); ${this.lastGood()}. Lower the learning rate, clip the gradients (clipGradNorm) or check the data`,
            epoch,
            this.state.step + 1,
          );
        }
        const boundary = b % o.accumulate === 0 || b === batches;
        const adversarial = 'pretraining' in r ? (r as AdversarialBatch) : null;
        // While the adversary pre-trains the segmenter stands still (no step, no schedule, no EMA).
        if (boundary && !adversarial?.pretraining) this.optimizerStep();
        this.state.step += 1;
        this.state.batch = b;
        const t2 = performance.now();
        addBatch(t, r, n, (t2 - t0) / 1000, (t1 - t0) / 1000);
        if (adversarial) tallyAdversarial(t, adversarial);
        const event: StepEvent = {
          type: 'step',
          epoch,
          batch: b,
          batches,
          step: this.state.step,
          loss: r.loss,
          ...running(t),
          lr: this.lr(),
          images: n,
          seconds: (t2 - t0) / 1000,
          dataSeconds: (t1 - t0) / 1000,
          ...(adversarial ? { adversarial: { ...adversarialStats(t), pretraining: adversarial.pretraining } } : {}),
        };
        await this.emitter.emit(event);
        if (boundary && (this.stopRequested || o.signal?.aborted)) {
          this.save('interrupt', RUN_FILES.last, true, this.ema ? 'ema' : 'model');
          const reason = o.signal?.aborted ? 'interrupted' : 'stopped';
          return [reason, `${reason} at epoch ${epoch}, batch ${b} of ${batches} (step ${this.state.step})`];
        }
      }
    } finally {
      await it.return?.();
    }
    await this.endEpoch(epoch);
    return null;
  }

  private async endEpoch(epoch: number): Promise<void> {
    const o = this.options;
    const t = this.state.tally;
    const inSwa = this.inSwa;
    if (inSwa) {
      this.swa!.updateParameters(this.averagedTensors());
      this.swaScheduler!.step();
    }
    const last = epoch === o.epochs;
    let validation: ValidationEvent | null = null;
    if (epoch % o.validateEvery === 0 || last) {
      validation = await withAveragedWeights(this.averagedTensors(), this.ema, () => this.validate(epoch, this.ema ? 'ema' : 'model'));
    }
    if (o.scheduler && !inSwa) {
      const s = o.scheduler as { step(v?: number): void; name?: string };
      if ('patience' in s) {
        if (validation) s.step(validation.value);
      } else if (o.schedulerInterval === 'epoch') s.step();
    }
    this.state.epoch = epoch;
    this.state.batch = 0;
    const event: EpochEvent = {
      ...epochEvent(this.state, epoch, o.epochs, this.lr(), validation?.metrics),
      ...(o.adversarial ? { adversarial: adversarialStats(t) } : {}),
    };
    this.state.history.push(event);
    this.state.tally = newTally();
    this.save('last', RUN_FILES.last, true, this.ema ? 'ema' : 'model');
    if (o.snapshotEpochs.includes(epoch)) this.save('snapshot', `snapshot-${epoch}.safetensors`, false, 'model');
    await this.emitter.emit(event);
    await this.emitter.report();
  }
}

export type { TrainEvent };
