// The report's page: one self-contained HTML document. Everything that comes from the run (names,
// config, messages) goes through `escapeHtml`; the plots' numbers travel in a JSON block whose
// every '<' is written as \u003c, so no value can close the block or open a tag.
import { OVERLAY_COLORS } from './overlay.js';
import { PAGE_SCRIPT, PAGE_STYLE, assets, scriptHash } from './report-assets.js';
import { METRICS, type RunStatus, type RunSummary, finite } from './report-summary.js';
import type { EvalMetrics, ValidationEvent } from './events.js';
import type { SampleItem } from './samples.js';

/** samples.json: the overlays of the best and worst validation images of one epoch. */
export interface SamplesFile {
  epoch: number;
  items: SampleItem[];
}

export interface PageInput {
  title: string;
  summary: RunSummary;
  config: unknown;
  samples: SamplesFile | null;
  /** When the page was written (ISO 8601). */
  generated: string;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** JSON for a <script type="application/json"> block: '<' never appears raw. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

const DASH = '\u2013';

export function fmtMetric(v: unknown): string {
  const n = finite(v);
  return n === null ? DASH : n.toFixed(4);
}

export function fmtLoss(v: unknown): string {
  const n = finite(v);
  if (n === null) return DASH;
  const a = Math.abs(n);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? n.toExponential(3) : String(Number(n.toPrecision(4)));
}

export function fmtLr(v: unknown): string {
  const n = finite(v);
  return n === null ? DASH : n === 0 ? '0' : n.toExponential(2);
}

export function fmtRate(v: unknown): string {
  const n = finite(v);
  if (n === null) return DASH;
  return Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2);
}

export function fmtPercent(v: unknown, digits = 1): string {
  const n = finite(v);
  return n === null ? DASH : `${(n * 100).toFixed(digits)}%`;
}

/** An integer with thousands separators, the same in every locale. */
export function fmtCount(v: unknown): string {
  const n = finite(v);
  return n === null
    ? DASH
    : Math.round(n)
        .toString()
        .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export function fmtSeconds(v: unknown): string {
  const s = finite(v);
  if (s === null) return DASH;
  if (s < 60) return `${s < 10 ? s.toFixed(2) : s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.round(s - m * 60)).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** The monitored value in the monitor's own format (a loss is not a score). */
function fmtMonitor(monitor: string, v: unknown): string {
  return monitor === 'loss' ? fmtLoss(v) : fmtMetric(v);
}

const STATUS_TEXT: Record<RunStatus, string> = {
  running: 'running',
  completed: 'completed',
  'early-stopping': 'early stopping',
  stopped: 'stopped',
  interrupted: 'interrupted',
  'non-finite-loss': 'non-finite loss',
  error: 'failed',
};

function header(input: PageInput): string {
  const s = input.summary;
  const parts: string[] = [];
  parts.push(`epoch <b>${escapeHtml(s.epochsDone)}</b> of <b>${escapeHtml(s.epochsTotal ?? '?')}</b>`);
  parts.push(`${fmtCount(s.steps)} step${s.steps === 1 ? '' : 's'}`);
  if (s.best)
    parts.push(
      `best ${escapeHtml(s.best.monitor)} <b>${fmtMonitor(s.best.monitor, s.best.value)}</b> at epoch <b>${escapeHtml(s.best.epoch)}</b>`,
    );
  else if (s.validations.size === 0) parts.push('no validation');
  if (s.start)
    parts.push(
      s.start.valImages > 0
        ? `${fmtCount(s.start.trainImages)} training / ${fmtCount(s.start.valImages)} validation images`
        : `${fmtCount(s.start.trainImages)} training images`,
    );
  if (typeof s.start?.time === 'string') parts.push(`started ${escapeHtml(s.start.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z'))}`);
  if (s.starts > 1) parts.push(`resumed ${s.starts - 1}\u00d7`);
  const message = s.message ? `<p class="message">${escapeHtml(s.message)}</p>` : '';
  return `<header><h1>${escapeHtml(input.title)}</h1><span class="badge ${escapeHtml(s.status)}">${escapeHtml(Object.hasOwn(STATUS_TEXT, s.status) ? STATUS_TEXT[s.status] : s.status)}</span></header>
<p class="sub">${parts.join(' \u00b7 ')}</p>${message}`;
}

function metricCards(s: RunSummary): string {
  const m = s.best?.metrics;
  if (!m) return '';
  const cards = METRICS.map(
    ({ key, label }) =>
      `<div class="metric${key === s.best!.monitor ? ' main' : ''}"><div class="label">${label}</div><div class="value">${fmtMetric(m[key])}</div></div>`,
  );
  if (finite(m.loss) !== null)
    cards.push(
      `<div class="metric${s.best!.monitor === 'loss' ? ' main' : ''}"><div class="label">Loss</div><div class="value">${fmtLoss(m.loss)}</div></div>`,
    );
  return `<h2>Validation scores of the best epoch (epoch ${escapeHtml(s.best!.epoch)}, ${fmtCount(m.images)} images)</h2><section class="cards">${cards.join('')}</section>`;
}

function plotCards(s: RunSummary): string {
  if (s.plots.length === 0) return '<section class="card"><p class="note">No epoch has finished yet.</p></section>';
  const cards = s.plots.map(
    (p) => `<div class="card"><h2>${escapeHtml(p.title)}</h2><div class="plot" id="${escapeHtml(p.id)}"></div></div>`,
  );
  if (s.validations.size === 0)
    cards.push('<div class="card"><h2>Validation metrics</h2><p class="note">This run has no validation set.</p></div>');
  return `<section class="grid">${cards.join('')}</section>`;
}

function confusionCard(s: RunSummary): string {
  const columns: { title: string; m: EvalMetrics }[] = [];
  const last: ValidationEvent | null = s.lastValidation;
  if (last) columns.push({ title: `last (epoch ${last.epoch})`, m: last.metrics });
  if (s.best?.metrics) columns.push({ title: `best (epoch ${s.best.epoch})`, m: s.best.metrics });
  if (columns.length === 0) {
    const none = s.start?.valImages === 0 ? 'This run has no validation set.' : 'No validation yet.';
    return `<div class="card"><h2>Confusion counts</h2><p class="note">${none}</p></div>`;
  }
  const c = (m: EvalMetrics) => m.confusion ?? { tp: Number.NaN, fp: Number.NaN, fn: Number.NaN, tn: Number.NaN };
  const total = (m: EvalMetrics) => c(m).tp + c(m).fp + c(m).fn + c(m).tn;
  const ratio = (a: number, b: number) => (b > 0 ? a / b : Number.NaN);
  const rows: [string, (m: EvalMetrics) => string][] = [
    ['true positives', (m) => `${fmtCount(c(m).tp)} <small>(${fmtPercent(ratio(c(m).tp, total(m)))})</small>`],
    ['false positives', (m) => `${fmtCount(c(m).fp)} <small>(${fmtPercent(ratio(c(m).fp, total(m)))})</small>`],
    ['false negatives', (m) => `${fmtCount(c(m).fn)} <small>(${fmtPercent(ratio(c(m).fn, total(m)))})</small>`],
    ['true negatives', (m) => `${fmtCount(c(m).tn)} <small>(${fmtPercent(ratio(c(m).tn, total(m)))})</small>`],
    ['precision TP/(TP+FP)', (m) => fmtMetric(ratio(c(m).tp, c(m).tp + c(m).fp))],
    ['recall TP/(TP+FN)', (m) => fmtMetric(ratio(c(m).tp, c(m).tp + c(m).fn))],
    ['false-positive rate FP/(FP+TN)', (m) => fmtMetric(ratio(c(m).fp, c(m).fp + c(m).tn))],
    ['foreground share (truth)', (m) => fmtPercent(ratio(c(m).tp + c(m).fn, total(m)))],
  ];
  const head = columns.map((col) => `<th>${escapeHtml(col.title)}</th>`).join('');
  const body = rows.map(([label, f]) => `<tr><td>${label}</td>${columns.map((col) => `<td>${f(col.m)}</td>`).join('')}</tr>`).join('');
  return `<div class="card"><h2>Confusion counts (pixels)</h2><div class="scroll"><table><thead><tr><th></th>${head}</tr></thead><tbody>${body}</tbody></table></div></div>`;
}

function kvTable(rows: [string, string][]): string {
  return `<table class="kv"><tbody>${rows.map(([k, v]) => `<tr><td>${k}</td><td>${v}</td></tr>`).join('')}</tbody></table>`;
}

function timingsCard(s: RunSummary): string {
  const t = s.timings;
  const rows: [string, string][] = [
    ['total time', `${t.totalMeasured ? '' : '\u2248 '}${fmtSeconds(t.totalSeconds)}`],
    ['training per epoch', fmtSeconds(t.epochSeconds)],
    ['validation per epoch', fmtSeconds(t.validationSeconds)],
    ['training throughput', `${fmtRate(t.imagesPerSecond)} images/s`],
    ['waiting for data', fmtPercent(t.dataWaitFraction)],
  ];
  if (s.start) rows.push(['batches per epoch', fmtCount(s.start.batchesPerEpoch)]);
  return `<div class="card"><h2>Timings</h2>${kvTable(rows)}</div>`;
}

function machineCard(s: RunSummary): string {
  const m = s.machine;
  if (!m) return '<div class="card"><h2>Machine</h2><p class="note">The log has no start event.</p></div>';
  const rows: [string, string][] = [
    ['host', escapeHtml(m.hostname)],
    ['platform', escapeHtml(m.platform)],
    ['CPU', `${escapeHtml(m.cpus)} (${escapeHtml(m.cores)} cores, ${escapeHtml(m.threads)} threads used)`],
    ['memory', `${escapeHtml(m.memoryGiB)} GiB`],
    ['Node.js', escapeHtml(m.node)],
    ['libtorch', escapeHtml(m.libtorch)],
    ['segkit', escapeHtml(m.segkit)],
  ];
  if (s.start?.resumedFrom) rows.push(['resumed from', escapeHtml(s.start.resumedFrom)]);
  return `<div class="card"><h2>Machine</h2>${kvTable(rows)}</div>`;
}

function swatch(rgb: readonly number[], label: string): string {
  return `<span><span class="swatch" style="background: rgb(${rgb.join(', ')})"></span>${label}</span>`;
}

function samplesSection(samples: SamplesFile | null): string {
  if (!samples || !Array.isArray(samples.items) || samples.items.length === 0) return '';
  const figure = (item: SampleItem) => {
    const ok = typeof item.image === 'string' && /^data:image\/png;base64,[A-Za-z0-9+/]+={0,2}$/.test(item.image);
    const img = ok ? `<img src="${item.image}" alt="${escapeHtml(item.name)}" loading="eager">` : '<p class="note">image missing</p>';
    return `<figure>${img}<figcaption><span class="name" title="${escapeHtml(item.name)}">${escapeHtml(item.name)}</span><span class="scores">Dice ${fmtMetric(item.dice)} \u00b7 IoU ${fmtMetric(item.iou)}</span></figcaption></figure>`;
  };
  const group = (kind: 'best' | 'worst', title: string) => {
    const items = samples.items.filter((i) => i && i.kind === kind);
    return items.length === 0 ? '' : `<div class="kind">${title}</div><div class="samples">${items.map(figure).join('')}</div>`;
  };
  const c = OVERLAY_COLORS;
  const legend = `<div class="legend">${swatch(c.truePositive, 'true positive')}${swatch(c.falsePositive, 'false positive')}${swatch(c.falseNegative, 'false negative')}${swatch(c.outline, 'truth outline')}<span>darkened: ignored pixels</span></div>`;
  const epoch = finite(samples.epoch);
  return `<section class="card" style="margin-bottom: 16px"><h2>Validation images${epoch === null ? '' : ` at epoch ${epoch}`}</h2>${legend}${group('best', 'best by Dice')}${group('worst', 'worst by Dice')}</section>`;
}

function historyTable(s: RunSummary): string {
  if (s.epochs.length === 0) return '';
  const bestEpoch = s.best?.epoch;
  const rows = s.epochs.map((e) => {
    const v = s.validations.get(e.epoch);
    const cls = e.epoch === bestEpoch ? ' class="best"' : '';
    return `<tr><td${cls}>${escapeHtml(e.epoch)}</td><td>${fmtLoss(e.trainLoss)}</td><td>${fmtMetric(e.trainDice)}</td><td>${fmtLoss(v?.loss)}</td><td>${fmtMetric(v?.dice)}</td><td>${fmtMetric(v?.iou)}</td><td>${fmtMetric(v?.tianchi)}</td><td>${fmtLr(e.lr)}</td><td>${fmtSeconds(e.seconds)}</td><td>${fmtRate(e.imagesPerSecond)}</td><td>${fmtPercent(e.dataWaitFraction)}</td></tr>`;
  });
  const head = [
    'epoch',
    'train loss',
    'train Dice',
    'val loss',
    'val Dice',
    'val IoU',
    'val Tianchi',
    'lr',
    'time',
    'images/s',
    'data wait',
  ];
  return `<details class="card" style="margin-bottom: 16px"><summary>Epochs (${s.epochs.length})</summary><div class="scroll"><table><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table></div></details>`;
}

function configSection(config: unknown): string {
  if (config === undefined || config === null) return '';
  let text: string;
  try {
    text = JSON.stringify(config, null, 2) ?? String(config);
  } catch {
    text = String(config);
  }
  return `<details class="card" open><summary>Configuration</summary><pre>${escapeHtml(text)}</pre></details>`;
}

/** The whole page. */
export function renderPage(input: PageInput): string {
  const s = input.summary;
  const a = assets();
  const segkit = s.machine?.segkit ? ` ${escapeHtml(s.machine.segkit)}` : '';
  // Only these two scripts may run: an injected one would be blocked even if escaping failed.
  const csp = [
    "default-src 'none'",
    'img-src data:',
    "style-src 'unsafe-inline'",
    `script-src ${scriptHash(a.uplotScript)} ${scriptHash(PAGE_SCRIPT)}`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<title>${escapeHtml(input.title)} \u00b7 segkit training report</title>
<style>${a.uplotStyle}</style>
<style>${PAGE_STYLE}</style>
</head>
<body>
<main>
${header(input)}
${metricCards(s)}
${plotCards(s)}
<section class="facts">${confusionCard(s)}<div class="stack">${timingsCard(s)}${machineCard(s)}</div></section>
${samplesSection(input.samples)}
${historyTable(s)}
${configSection(input.config)}
<footer>Written by segkit${segkit} at ${escapeHtml(input.generated)}. Self-contained: it loads nothing from the network.</footer>
</main>
<script type="application/json" id="report-data">${scriptJson({ plots: s.plots })}</script>
<script>${a.uplotScript}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
