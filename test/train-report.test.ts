// The training report: the page's numbers, escaping and self-containment from a realistic run
// log with real overlays of demo tiles; the page in a real browser (no errors, plots drawn,
// images loaded, no network); the overlay's colours at known pixels; no leaked tensors.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { chromium, type Browser } from 'playwright-core';
import { torch, type Tensor } from '../src/index.js';
import { FolderDataset } from '../src/data/sources/folder.js';
import type { EvalMetrics, TrainEvent } from '../src/train/events.js';
import { OVERLAY_COLORS, overlayDataUri, percentiles, renderOverlay } from '../src/train/overlay.js';
import { renderReport, summarise, writeReport, type SampleItem, type SamplesFile } from '../src/train/report.js';
import { fmtMetric, scriptJson } from '../src/train/report-html.js';
import { tensorTest } from './helpers.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DEMO = join(ROOT, 'data/demo/catanduanes');
const CHROMIUM = '/usr/bin/chromium';
const INJECTION = '"</script><img src=x onerror=alert(1)>"';

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'segkit-report-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Validation scores consistent with their confusion counts (24 tiles of 256x256, 18% buildings). */
function metricsFor(precision: number, recall: number, loss: number): EvalMetrics {
  const pixels = 24 * 256 * 256;
  const truth = Math.round(0.18 * pixels);
  const tp = Math.round(recall * truth);
  const fn = truth - tp;
  const fp = Math.round(tp / precision - tp);
  const tn = pixels - tp - fn - fp;
  const dice = (2 * tp) / (2 * tp + fp + fn);
  return {
    loss,
    dice,
    iou: tp / (tp + fp + fn),
    precision: tp / (tp + fp),
    recall: tp / (tp + fn),
    tianchi: dice - 0.031,
    objectF1: dice - 0.12,
    confusion: { tp, fp, fn, tn },
    images: 24,
  };
}

const MACHINE = {
  hostname: 'bench-1',
  platform: 'linux x64',
  cpus: 'AMD EPYC 7B13',
  cores: 2,
  threads: 2,
  memoryGiB: 7.8,
  node: 'v20.20.2',
  libtorch: '1.13.1',
  segkit: '0.1.0',
};

interface RunShape {
  epochs: number;
  validate: boolean;
  batches?: number;
  logEvery?: number;
  end?: boolean;
  /** A config value that tries to inject markup (default true). */
  hostile?: boolean;
}

/** The events a Trainer logs for a run of this shape: cosine lr, a loss that falls, Dice that peaks at epoch epochs-2. */
function runEvents(shape: RunShape): { events: TrainEvent[]; best: { epoch: number; metrics: EvalMetrics } | null } {
  const { epochs, validate } = shape;
  const batches = shape.batches ?? 10;
  const logEvery = shape.logEvery ?? 2;
  const events: TrainEvent[] = [];
  // A resolved run config as config.json holds it; the hostile one carries an injection attempt.
  const config: Record<string, unknown> = {
    model: { architecture: 'unet', encoderName: 'resnet34', encoderWeights: 'imagenet', inChannels: 3, classes: 1 },
    data: {
      train: [{ path: 'data/demo/catanduanes', format: 'auto' }],
      split: { file: 'data/demo/catanduanes/split.json' },
      batchSize: 4,
      normalization: 'imagenet',
    },
    augment: [
      { name: 'RandomHorizontalFlip', p: 0.5 },
      { name: 'RandomRotate90' },
      { name: 'ColorJitter', brightness: 0.2, contrast: 0.2 },
    ],
    loss: {
      terms: [
        { name: 'dice', weight: 1 },
        { name: 'bce', weight: 0.5 },
      ],
    },
    optimizer: { name: 'adamw', lr: 0.001, weightDecay: 0.01 },
    scheduler: { name: 'cosine', warmupEpochs: 0, interval: 'step', etaMin: 0 },
    train: { epochs, monitor: 'dice', threshold: 0.5, seed: 0 },
  };
  if (shape.hostile !== false) config.note = INJECTION;
  events.push({
    type: 'start',
    time: '2025-03-01T09:30:00.000Z',
    epoch: 1,
    epochs,
    step: 0,
    batchesPerEpoch: batches,
    trainImages: batches * 4,
    valImages: validate ? 24 : 0,
    monitor: validate ? 'dice' : 'loss',
    machine: MACHINE,
    config,
  });
  let step = 0;
  let best: { epoch: number; value: number; metrics: EvalMetrics } | null = null;
  const total = epochs * batches;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const base = 0.12 + 0.6 * Math.exp(-epoch / 3);
    let sum = 0;
    for (let b = 1; b <= batches; b++) {
      step++;
      const loss = base * (1 + 0.15 * Math.sin(step * 1.7));
      sum += loss;
      const lr = 1e-3 * 0.5 * (1 + Math.cos((Math.PI * step) / total));
      if (b % logEvery === 0 || b === batches)
        events.push({
          type: 'step',
          epoch,
          batch: b,
          batches,
          step,
          loss,
          runningLoss: sum / b,
          runningDice: 0.5 + 0.3 * (1 - Math.exp(-epoch / 2)),
          lr,
          images: 4,
          seconds: 0.41,
          dataSeconds: 0.03,
          imagesPerSecond: 4 / 0.41,
        });
    }
    let validation: EvalMetrics | undefined;
    if (validate) {
      // Scores rise, peak at epochs - 2, then sag a little: the best is not the last.
      const peak = Math.max(epochs - 2, 1);
      const q = epoch <= peak ? 1 - Math.exp(-epoch / 2.5) : 1 - Math.exp(-peak / 2.5) - 0.01 * (epoch - peak);
      validation = metricsFor(0.55 + 0.3 * q, 0.5 + 0.33 * q, base * 1.2);
      const isBest = best === null || validation.dice > best.value;
      if (isBest) best = { epoch, value: validation.dice, metrics: validation };
      events.push({
        type: 'validation',
        epoch,
        step,
        metrics: validation,
        monitor: 'dice',
        value: validation.dice,
        best: isBest,
        seconds: 1.9,
      });
      if (isBest) events.push({ type: 'checkpoint', epoch, step, kind: 'best', path: '/runs/demo/best.safetensors' });
    }
    events.push({
      type: 'epoch',
      epoch,
      epochs,
      step,
      trainLoss: sum / batches,
      trainDice: 0.5 + 0.3 * (1 - Math.exp(-epoch / 2)),
      lr: 1e-3 * 0.5 * (1 + Math.cos((Math.PI * step) / total)),
      images: batches * 4,
      // The first epoch warms up; later ones vary a little, as on a shared machine.
      seconds: seconds(epoch, batches),
      imagesPerSecond: (batches * 4) / seconds(epoch, batches),
      dataWaitFraction: 0.06 + 0.02 * Math.cos(epoch),
      validation,
      best: best ? { epoch: best.epoch, value: best.value } : undefined,
    });
    events.push({ type: 'checkpoint', epoch, step, kind: 'last', path: '/runs/demo/last.safetensors' });
  }
  if (shape.end !== false)
    events.push({
      type: 'end',
      time: '2025-03-01T09:41:07.000Z',
      reason: 'completed',
      message: '',
      epoch: epochs,
      step,
      seconds: 667.2,
      best: best ? { epoch: best.epoch, value: best.value, monitor: 'dice', metrics: best.metrics } : undefined,
      checkpoint: '/runs/demo/best.safetensors',
    });
  return { events, best };
}

/** The events with epoch 1's validation loss at 346, as a random-init net's first validation can be. */
function farFirstValidation(events: TrainEvent[]): TrainEvent[] {
  return events.map((e) =>
    e.epoch !== 1
      ? e
      : e.type === 'validation'
        ? { ...e, metrics: { ...e.metrics, loss: 346 } }
        : e.type === 'epoch' && e.validation
          ? { ...e, validation: { ...e.validation, loss: 346 } }
          : e,
  ) as TrainEvent[];
}

function seconds(epoch: number, batches: number): number {
  return batches * 0.41 * (epoch === 1 ? 1.35 : 1 + 0.05 * Math.sin(epoch * 2.3));
}

/** Per-image Dice and IoU of 0/1 arrays over the valid pixels. */
function scores(truth: Int32Array, pred: Uint8Array): { dice: number; iou: number } {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  truth.forEach((t, i) => {
    if (t !== 0 && t !== 1) return;
    if (t === 1 && pred[i]) tp++;
    else if (pred[i]) fp++;
    else if (t === 1) fn++;
  });
  const both = 2 * tp + fp + fn;
  return { dice: both === 0 ? 1 : (2 * tp) / both, iou: both === 0 ? 1 : tp / (tp + fp + fn) };
}

/** samples.json from real demo tiles: each prediction is the truth shifted a little more. */
async function realSamples(epoch: number): Promise<SamplesFile> {
  const ds = await FolderDataset.open(DEMO);
  const items: SampleItem[] = [];
  for (let i = 0; i < 6; i++) {
    const s = await ds.get(i);
    const pred = torch.tidy(() =>
      torch.keep(
        s.mask
          .eq(1)
          .roll([3 * i + 1, 2 * i], [0, 1])
          .byte(),
      ),
    );
    try {
      const [t, p] = torch.tidy(() => [s.mask.int().toArray() as Int32Array, pred.toArray() as Uint8Array]);
      const { dice, iou } = scores(t, p);
      items.push({ name: s.meta.name, dice, iou, kind: 'best', image: await overlayDataUri(s.image, s.mask, pred) });
    } finally {
      torch.dispose([s.image, s.mask, pred]);
    }
  }
  items.sort((a, b) => b.dice - a.dice);
  items.slice(3).forEach((item) => (item.kind = 'worst'));
  return { epoch, items: [...items.slice(0, 3), ...items.slice(3).reverse()] };
}

async function writeRun(dir: string, events: TrainEvent[], samples: SamplesFile | null, tornTail = ''): Promise<void> {
  await writeFile(join(dir, 'log.jsonl'), `${events.map((e) => JSON.stringify(e)).join('\n')}\n${tornTail}`);
  const start = events.find((e) => e.type === 'start');
  if (start?.type === 'start') await writeFile(join(dir, 'config.json'), `${JSON.stringify(start.config, null, 2)}\n`);
  if (samples) await writeFile(join(dir, 'samples.json'), `${JSON.stringify(samples)}\n`);
}

/** Every src/href/url() in the page that points off the machine. */
function networkReferences(html: string): string[] {
  return [...html.matchAll(/(?:\b(?:src|href|action|poster|srcset)\s*=\s*["']?\s*|url\(\s*["']?)((?:https?:)?\/\/[^"'\s)>]*)/gi)].map(
    (m) => m[1]!,
  );
}

tensorTest(
  'renderReport: a 12-epoch run shows its status, best scores, tables and plots, escapes what it shows and references no network',
  async () => {
    const { events, best } = runEvents({ epochs: 12, validate: true });
    const samples = await realSamples(10);
    const html = renderReport({ events, title: 'demo <b>run</b>', samples, generated: '2025-03-01T09:41:08Z' });
    const m = best!.metrics;
    assert.equal(best!.epoch, 10);
    assert.match(html, /<span class="badge completed">completed<\/span>/);
    assert.match(html, /epoch <b>12<\/b> of <b>12<\/b>/);
    assert.ok(html.includes(`best dice <b>${fmtMetric(m.dice)}</b> at epoch <b>10</b>`), 'header names the best Dice and its epoch');
    for (const v of [m.dice, m.iou, m.precision, m.recall, m.tianchi, m.objectF1])
      assert.ok(html.includes(`<div class="value">${v.toFixed(4)}</div>`), `card with ${v.toFixed(4)}`);
    // The confusion table: counts with thousands separators, best and last columns.
    assert.ok(html.includes(m.confusion.tp.toLocaleString('en-US')), 'true positives of the best epoch');
    assert.match(html, /last \(epoch 12\)/);
    assert.match(html, /best \(epoch 10\)/);
    // Timings and machine.
    assert.match(html, /11 min 07 s/);
    assert.ok(html.includes('AMD EPYC 7B13'));
    // The title and config are escaped; the injection shows as text, never as markup.
    assert.ok(html.includes('<h1>demo &lt;b&gt;run&lt;/b&gt;</h1>'));
    assert.ok(
      html.includes('&quot;\\&quot;&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;\\&quot;&quot;'),
      'config value escaped inside <pre>',
    );
    assert.ok(!html.includes('<img src=x'), 'no injected tag');
    assert.equal((html.match(/<script\b/g) ?? []).length, 3, 'the JSON block, uPlot and the page script');
    assert.equal((html.match(/<\/script>/g) ?? []).length, 3);
    // The plots' data.
    const json = JSON.parse(/<script type="application\/json" id="report-data">([^<]*)<\/script>/.exec(html)![1]!);
    assert.deepEqual(
      json.plots.map((p: { id: string }) => p.id),
      ['plot-loss', 'plot-step-loss', 'plot-metrics', 'plot-lr', 'plot-throughput'],
    );
    const metrics = json.plots.find((p: { id: string }) => p.id === 'plot-metrics');
    assert.deepEqual(metrics.x, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    assert.equal(metrics.series[0].values[9], m.dice);
    const lr = json.plots.find((p: { id: string }) => p.id === 'plot-lr');
    assert.equal(lr.x.length, 12 * 5, 'step events every 2nd of 10 batches');
    // The samples: real PNG overlays, escaped names, best ones first.
    const images = [...html.matchAll(/<img src="(data:image\/png;base64,[^"]+)"/g)].map((x) => x[1]!);
    assert.equal(images.length, 6);
    for (const uri of images) {
      const meta = await sharp(Buffer.from(uri.slice(uri.indexOf(',') + 1), 'base64')).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['png', 256, 256]);
    }
    assert.ok(html.indexOf('best by Dice') < html.indexOf('worst by Dice'));
    assert.ok(html.includes(`Dice ${fmtMetric(samples.items[0]!.dice)}`));
    assert.deepEqual(networkReferences(html), []);
    assert.match(html, /Content-Security-Policy" content="default-src 'none'; img-src data:;/);
    // A name in a sample and a status from a forged log are escaped too.
    const forged = renderReport({
      events: [
        ...events.slice(0, -1),
        { ...(events.at(-1) as TrainEvent & { type: 'end' }), reason: '<x>' as never, message: '<i>boom</i>' },
      ],
      samples: {
        epoch: 1,
        items: [
          { ...samples.items[0]!, name: '<svg onload=alert(1)>' },
          { ...samples.items[1]!, image: 'javascript:alert(1)' },
        ],
      },
    });
    assert.ok(!/<svg|<x>|<i>boom/.test(forged), 'forged name, status and message are escaped');
    assert.ok(!forged.includes('javascript:'), 'a sample image that is not a PNG data URI is dropped');
    assert.ok(!scriptJson({ a: '</script><!--' }).includes('<'), 'the JSON block never holds a raw <');
  },
);

test('summarise: status, epochs and best across a resumed, an unfinished and a failed run', () => {
  const { events } = runEvents({ epochs: 6, validate: true, end: false });
  const running = summarise(events);
  assert.equal(running.status, 'running');
  assert.equal(running.epochsDone, 6);
  assert.equal(running.epochsTotal, 6);
  assert.equal(running.steps, 60);
  assert.equal(running.best?.epoch, 4);
  assert.equal(
    running.best?.metrics?.dice,
    (events.find((e) => e.type === 'validation' && e.epoch === 4) as { metrics: EvalMetrics }).metrics.dice,
  );
  // Interrupted in epoch 3, resumed: the second start's epochs, the status after it.
  const first = events.filter((e) => e.epoch <= 2 || e.type === 'start');
  const interrupted: TrainEvent = {
    type: 'end',
    time: '',
    reason: 'interrupted',
    message: 'interrupted at epoch 3',
    epoch: 2,
    step: 24,
    seconds: 30,
  };
  const resumed = summarise([
    ...first,
    interrupted,
    { ...(events[0] as TrainEvent & { type: 'start' }), epoch: 3, step: 20, resumedFrom: 'last.safetensors' },
    ...events.filter((e) => e.epoch >= 3 && e.type !== 'start'),
  ]);
  assert.equal(resumed.status, 'running');
  assert.equal(resumed.starts, 2);
  assert.equal(resumed.epochsDone, 6);
  assert.equal(summarise([...first, interrupted]).status, 'interrupted');
  const failed = summarise([...first, { ...interrupted, reason: 'non-finite-loss', message: 'loss is NaN at step 21' }]);
  assert.equal(failed.status, 'non-finite-loss');
  assert.equal(failed.message, 'loss is NaN at step 21');
  assert.equal(failed.epochsDone, 2);
  // A long run's step plots are thinned, keeping the last step.
  const long = summarise(runEvents({ epochs: 50, validate: true, batches: 100, logEvery: 1 }).events);
  const stepLoss = long.plots.find((p) => p.id === 'plot-step-loss')!;
  assert.ok(stepLoss.x.length <= 2000 && stepLoss.x.length >= 1000, `${stepLoss.x.length} step points`);
  assert.equal(stepLoss.x.at(-1), 5000);
  // No validation: no best, metrics plot left out.
  const plain = summarise(runEvents({ epochs: 3, validate: false }).events);
  assert.equal(plain.best, null);
  assert.deepEqual(
    plain.plots.map((p) => p.id),
    ['plot-loss', 'plot-step-loss', 'plot-lr', 'plot-throughput'],
  );
  // A loss plot spanning decades (a first validation of a random-init net far off) is drawn on a log axis.
  assert.equal(summarise(events).plots[0]!.log, undefined);
  const offFirst = farFirstValidation(events);
  const lossPlot = summarise(offFirst).plots[0]!;
  assert.equal(lossPlot.log, true);
  assert.equal(lossPlot.yLabel, 'loss (log scale)');
  assert.equal(lossPlot.series[1]!.values[0], 346);
});

tensorTest(
  'writeReport: reads the run folder (a torn last log line skipped), writes report.html whole and checks its arguments',
  async (t) => {
    const dir = await tempDir(t);
    const { events, best } = runEvents({ epochs: 5, validate: true });
    await writeRun(dir, events, await realSamples(3), '{"type":"step","epoch":6,"ba');
    const path = await writeReport(dir);
    assert.equal(path, join(dir, 'report.html'));
    assert.deepEqual((await readdir(dir)).sort(), ['config.json', 'log.jsonl', 'report.html', 'samples.json']);
    const html = await readFile(path, 'utf8');
    assert.ok(html.startsWith('<!doctype html>') && html.trimEnd().endsWith('</html>'));
    assert.ok(html.includes(`<h1>${dir.split('/').at(-1)}</h1>`), 'the folder name is the default title');
    assert.ok(html.includes(`best dice <b>${fmtMetric(best!.metrics.dice)}</b>`));
    assert.ok(html.includes('&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;'));
    assert.ok(html.includes('at epoch 3</h2>'), 'samples.json epoch');
    assert.ok((await readFile(await writeReport(dir, { title: 'Kavre, run 7' }), 'utf8')).includes('<h1>Kavre, run 7</h1>'));
    await assert.rejects(writeReport(join(dir, 'nowhere')), /writeReport: .*nowhere has no log\.jsonl/);
    await assert.rejects(
      writeReport(dir, { titel: 'x' } as never),
      (e: Error) => e instanceof TypeError && /writeReport/.test(e.message) && /titel/.test(e.message),
    );
    await assert.rejects(
      writeReport(dir, { title: 7 } as never),
      (e: Error) => e instanceof TypeError && /title must be a string/.test(e.message),
    );
  },
);

interface PlotCheck {
  id: string;
  canvases: number;
  width: number;
  height: number;
  painted: number;
  seriesPixels: number;
}

// Page-side code as strings: the tests are type-checked without the DOM library, and a string
// carries no helper that a compiler may add to a function's source.
const ALL_PLOTS_DRAWN = "document.querySelectorAll('.plot').length === document.querySelectorAll('.plot canvas').length";

/** Per plot: its canvas, how many pixels are painted, how many in a series' colour. */
const PLOT_PIXELS = `(() => {
  const data = JSON.parse(document.getElementById('report-data').textContent);
  return [...document.querySelectorAll('.plot')].map((el) => {
    const canvas = el.querySelector('canvas');
    // Series may hide one another (a single epoch puts every point in the middle): any series counts.
    const colors = data.plots.find((p) => p.id === el.id).series.map((s) => [1, 3, 5].map((i) => Number.parseInt(s.color.slice(i, i + 2), 16)));
    let painted = 0;
    let seriesPixels = 0;
    if (canvas && canvas.width > 0 && canvas.height > 0) {
      const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 0; i < px.length; i += 4) {
        if (px[i + 3] === 0) continue;
        painted++;
        if (px[i + 3] > 200 && colors.some((c) => Math.abs(px[i] - c[0]) + Math.abs(px[i + 1] - c[1]) + Math.abs(px[i + 2] - c[2]) < 60)) seriesPixels++;
      }
    }
    const canvases = el.querySelectorAll('canvas').length;
    return { id: el.id, canvases, width: canvas ? canvas.width : 0, height: canvas ? canvas.height : 0, painted, seriesPixels };
  });
})()`;

const IMAGES = '[...document.images].map((img) => ({ complete: img.complete, width: img.naturalWidth }))';

/** Opens a report in Chromium with the network cut off and returns what it drew. */
async function inspectPage(browser: Browser, file: string, screenshot?: string) {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const errors: string[] = [];
  const blocked: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') errors.push(`console ${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  await page.route('**', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
    blocked.push(url);
    return route.abort();
  });
  try {
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    await page.waitForFunction(ALL_PLOTS_DRAWN, undefined, { timeout: 10_000 });
    const plots = (await page.evaluate(PLOT_PIXELS)) as PlotCheck[];
    const images = (await page.evaluate(IMAGES)) as { complete: boolean; width: number }[];
    // A palette PNG: a third of the size, indistinguishable for a page of flat colours.
    if (screenshot)
      await sharp(await page.screenshot({ fullPage: true }))
        .png({ palette: true, compressionLevel: 9 })
        .toFile(screenshot);
    return { plots, images, errors, blocked };
  } finally {
    await page.close();
  }
}

test('report in Chromium: no errors, every plot drawn with its data, every image loaded, nothing fetched', async (t) => {
  // Not skipped when missing: the report is only known to work once a browser has drawn it.
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (the README's test command does)`);
  // Named like a run folder: the name is the page's title (and shows in the README's screenshot).
  const full = join(await tempDir(t), 'unet-resnet34-catanduanes');
  mkdirSync(full);
  // Its loss plot is on a log axis (a far-off first validation).
  await writeRun(full, farFirstValidation(runEvents({ epochs: 12, validate: true, hostile: false }).events), await realSamples(10));
  const one = await tempDir(t);
  await writeRun(one, runEvents({ epochs: 1, validate: false, batches: 1 }).events, null);
  // SEGKIT_REPORT_SCREENSHOT=docs/report.png also saves the page (of SEGKIT_REPORT_RUN when set) for the README.
  const shot = process.env.SEGKIT_REPORT_SCREENSHOT;
  const shotRun = process.env.SEGKIT_REPORT_RUN ?? full;
  if (shot) mkdirSync(dirname(shot), { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    for (const [dir, plotIds, imageCount] of [
      [full, ['plot-loss', 'plot-step-loss', 'plot-metrics', 'plot-lr', 'plot-throughput'], 6],
      [one, ['plot-loss', 'plot-lr', 'plot-throughput'], 0],
    ] as const) {
      const r = await inspectPage(browser, await writeReport(dir), shot && dir === shotRun ? shot : undefined);
      assert.deepEqual(r.errors, [], `${dir}: console and page errors`);
      assert.deepEqual(r.blocked, [], `${dir}: network requests`);
      assert.deepEqual(
        r.plots.map((p) => p.id),
        plotIds,
      );
      for (const p of r.plots) {
        assert.equal(p.canvases, 1, `${p.id}: one canvas`);
        assert.ok(p.width >= 240 && p.height >= 200, `${p.id}: canvas ${p.width}x${p.height}`);
        assert.ok(p.painted > 2000, `${p.id}: ${p.painted} painted pixels (axes, grid, lines)`);
        assert.ok(p.seriesPixels >= 10, `${p.id}: ${p.seriesPixels} pixels in the series' colours`);
      }
      assert.equal(r.images.length, imageCount);
      for (const img of r.images) assert.ok(img.complete && img.width === 256, `image loaded: ${JSON.stringify(img)}`);
    }
    if (shot && shotRun !== full) {
      const r = await inspectPage(browser, await writeReport(shotRun), shot);
      assert.deepEqual(r.errors, []);
    }
  } finally {
    await browser.close();
  }
});

/** The overlay's pixels as RGB bytes. */
async function pixelsOf(png: Buffer): Promise<{ data: Buffer; width: number }> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, 3);
  return { data, width: info.width };
}

tensorTest('renderOverlay: TP green, FP red, FN blue, truth outline, ignored pixels darkened, percentile stretch, no leak', async () => {
  const ds = await FolderDataset.open(DEMO);
  const s = await ds.get(5);
  const square = (y0: number, x0: number, size: number, value: number, base: Tensor) =>
    torch.tidy(() => {
      const m = base.clone();
      m.narrow(0, y0, size).narrow(1, x0, size).fill_(value);
      return m;
    });
  const zeros = torch.zeros([256, 256], { dtype: 'int64' });
  const truthA = square(40, 40, 80, 1, zeros);
  const truth = square(200, 200, 30, 255, truthA);
  const pred = square(80, 80, 80, 1, zeros);
  try {
    const plain = await pixelsOf(await renderOverlay(s.image, zeros, zeros));
    const over = await pixelsOf(await renderOverlay(s.image, truth, pred));
    const at = (img: { data: Buffer; width: number }, y: number, x: number) => [
      ...img.data.subarray((y * 256 + x) * 3, (y * 256 + x) * 3 + 3),
    ];
    const tinted = (y: number, x: number, color: readonly number[]) => {
      const base = at(plain, y, x);
      const got = at(over, y, x);
      got.forEach((v, b) =>
        assert.ok(Math.abs(v - (base[b]! * 0.55 + color[b]! * 0.45)) <= 1, `(${y}, ${x}) band ${b}: ${v} vs ${base[b]} tinted`),
      );
      return got;
    };
    // Over the real image the tint moves each pixel towards its colour; over a flat (mid-grey)
    // image the colours read as green, red and blue outright.
    const flat = torch.zeros([3, 256, 256]);
    const onGrey = await pixelsOf(await renderOverlay(flat, truth, pred));
    flat.dispose();
    for (const [y, x, color, name, band] of [
      [100, 100, OVERLAY_COLORS.truePositive, 'TP green', 1],
      [140, 140, OVERLAY_COLORS.falsePositive, 'FP red', 0],
      [60, 60, OVERLAY_COLORS.falseNegative, 'FN blue', 2],
    ] as const) {
      const base = at(plain, y, x);
      const shift = tinted(y, x, color).map((v, b) => v - base[b]!);
      const others = [0, 1, 2].filter((b) => b !== band);
      assert.ok(
        others.every((b) => shift[band]! > shift[b]! + 30),
        `${name}: the tint shifts band ${band} most, ${shift} at (${y}, ${x})`,
      );
      const g = at(onGrey, y, x);
      assert.ok(
        others.every((b) => g[band]! > g[b]! + 40),
        `${name} over grey: ${g}`,
      );
    }
    assert.deepEqual(at(over, 60, 40), [...OVERLAY_COLORS.outline], 'left edge of the truth');
    assert.deepEqual(at(over, 119, 60), [...OVERLAY_COLORS.outline], 'bottom edge of the truth');
    assert.deepEqual(at(over, 10, 10), at(plain, 10, 10), 'true negatives untouched');
    assert.deepEqual(
      at(over, 215, 215),
      at(plain, 215, 215).map((v) => v >> 1),
      'ignored pixels darkened',
    );
    // The stretch clips about 2% of each band at 0 and 2% at 255.
    for (let b = 0; b < 3; b++) {
      let low = 0;
      let high = 0;
      for (let i = b; i < plain.data.length; i += 3) {
        if (plain.data[i] === 0) low++;
        if (plain.data[i] === 255) high++;
      }
      assert.ok(low / 65536 > 0.01 && low / 65536 < 0.04, `band ${b}: ${low} pixels at 0`);
      assert.ok(high / 65536 > 0.01 && high / 65536 < 0.04, `band ${b}: ${high} pixels at 255`);
    }
    // Normalised input looks the same; one band shows grey.
    const normalised = torch.tidy(() => torch.keep(s.image.sub(0.45).div(0.22)));
    const grey = torch.tidy(() => torch.keep(s.image.narrow(0, 1, 1).mul(1000)));
    try {
      const n = await pixelsOf(await renderOverlay(normalised, truth, pred));
      let worst = 0;
      n.data.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - over.data[i]!))));
      assert.ok(worst <= 2, `normalised input: max difference ${worst}`);
      const g = await pixelsOf(await renderOverlay(grey, zeros, zeros));
      for (let i = 0; i < g.data.length; i += 3) assert.ok(g.data[i] === g.data[i + 1] && g.data[i] === g.data[i + 2], 'grey');
    } finally {
      torch.dispose([normalised, grey]);
    }
    // Class masks: with ignoreIndex every other non-zero value is foreground; int64 -1 reads right.
    const classes = square(40, 40, 80, 2, truth);
    const minusOne = square(200, 200, 30, -1, truthA);
    try {
      assert.ok(
        (await pixelsOf(await renderOverlay(s.image, classes, pred, { ignoreIndex: 255 }))).data.equals(over.data),
        'class 2 as foreground',
      );
      assert.ok(
        (await pixelsOf(await renderOverlay(s.image, minusOne, pred, { ignoreIndex: -1 }))).data.equals(over.data),
        'ignoreIndex -1',
      );
      const binary = await pixelsOf(await renderOverlay(s.image, classes, pred));
      assert.deepEqual(
        at(binary, 100, 100),
        at(plain, 100, 100).map((v) => v >> 1),
        'without ignoreIndex, 2 is ignored',
      );
    } finally {
      torch.dispose([classes, minusOne]);
    }
    await assert.rejects(
      renderOverlay(s.image, truth, pred, { ignore: 255 } as never),
      (e: Error) => e instanceof TypeError && /renderOverlay/.test(e.message) && /ignore/.test(e.message),
    );
    const uri = await overlayDataUri(s.image, truth, pred);
    assert.ok(uri.startsWith('data:image/png;base64,iVBORw0KGgo'));
    const narrow = torch.zeros([256, 255]);
    try {
      await assert.rejects(
        renderOverlay(s.image, narrow, pred),
        (e: Error) => e instanceof TypeError && /renderOverlay: truth must be a \[256, 256\] tensor/.test(e.message),
      );
    } finally {
      narrow.dispose();
    }
  } finally {
    torch.dispose([s.image, s.mask, zeros, truthA, truth, pred]);
  }
});

test('percentiles: exact to 1/4096 of the range on a small band, within half a percent in rank on a whole tile, NaN skipped', async () => {
  const { data } = await sharp(join(DEMO, 'images', '1772464-966381-21.jpg'))
    .extractChannel(1)
    .raw()
    .toBuffer({ resolveWithObject: true });
  const whole = Float32Array.from(data, (v) => v / 255);
  const quantiles = (values: Float32Array) => {
    const sorted = Float32Array.from(values).sort();
    return { at: (q: number) => sorted[Math.ceil(q * sorted.length) - 1]!, bin: (sorted.at(-1)! - sorted[0]!) / 4096 + 1e-6 };
  };
  // Up to 16384 values every one counts.
  const small = whole.subarray(0, 12000);
  const s = quantiles(small);
  const [lo, hi] = percentiles(small, 0.02, 0.98);
  assert.ok(Math.abs(lo - s.at(0.02)) <= s.bin, `2%: ${lo} vs ${s.at(0.02)}`);
  assert.ok(Math.abs(hi - s.at(0.98)) <= s.bin, `98%: ${hi} vs ${s.at(0.98)}`);
  assert.deepEqual(percentiles(Float32Array.from([Number.NaN, ...small, Number.NaN]), 0.02, 0.98), [lo, hi]);
  // A whole 256x256 band is sampled every 4th pixel.
  const w = quantiles(whole);
  const [wlo, whi] = percentiles(whole, 0.02, 0.98);
  assert.ok(wlo >= w.at(0.015) - w.bin && wlo <= w.at(0.025) + w.bin, `2%: ${wlo} vs ${w.at(0.015)}..${w.at(0.025)}`);
  assert.ok(whi >= w.at(0.975) - w.bin && whi <= w.at(0.985) + w.bin, `98%: ${whi} vs ${w.at(0.975)}..${w.at(0.985)}`);
  assert.deepEqual(percentiles(Float32Array.of(3, 3, 3), 0.02, 0.98), [3, 3]);
  assert.deepEqual(percentiles(new Float32Array(0), 0.02, 0.98), [0, 0]);
});
