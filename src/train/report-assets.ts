// What the report inlines so that it opens anywhere, offline: uPlot's script and stylesheet
// (read from the installed package, so the same code works from src/, dist/ and node_modules),
// the page's stylesheet and the small script that draws the plots from the page's JSON block.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export interface Assets {
  uplotScript: string;
  uplotStyle: string;
}

let cached: Assets | null = null;

/** uPlot's minified IIFE build and stylesheet, read once. */
export function assets(): Assets {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const read = (file: string): string => {
    try {
      return readFileSync(require.resolve(`uplot/dist/${file}`), 'utf8');
    } catch (e) {
      throw new Error(`writeReport: cannot read uPlot's ${file} (is the uplot package installed?): ${(e as Error).message}`, { cause: e });
    }
  };
  // Neither file may end the element it is inlined in.
  const inline = (text: string): string => text.replace(/<\/(script|style)/gi, '<\\/$1');
  cached = { uplotScript: inline(read('uPlot.iife.min.js')), uplotStyle: inline(read('uPlot.min.css')) };
  return cached;
}

/** The CSP source for an inline script: only scripts with these exact bytes may run. */
export function scriptHash(script: string): string {
  return `'sha256-${createHash('sha256').update(script, 'utf8').digest('base64')}'`;
}

export const PAGE_STYLE = `
:root { --fg: #1f2937; --muted: #6b7280; --line: #e5e7eb; --card: #fff; --bg: #f6f7f9; --accent: #2563eb; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif; }
main { max-width: 1280px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 24px; margin: 0; font-weight: 650; word-break: break-word; }
h2 { font-size: 15px; margin: 0 0 10px; font-weight: 600; }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 14px; margin-bottom: 6px; }
.sub { color: var(--muted); margin: 0 0 18px; }
.sub b { color: var(--fg); font-weight: 600; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 999px; font-size: 12px; font-weight: 600;
  letter-spacing: .02em; color: #fff; background: var(--muted); }
.badge.running { background: #2563eb; } .badge.completed { background: #16a34a; }
.badge.early-stopping { background: #0d9488; } .badge.stopped { background: #64748b; }
.badge.interrupted { background: #d97706; } .badge.non-finite-loss { background: #dc2626; }
.message { background: #fff7ed; border: 1px solid #fed7aa; border-radius: 8px; padding: 8px 12px; margin: 0 0 16px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(140px, 1fr)); gap: 10px; margin-bottom: 18px; }
.metric { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 10px 14px; }
.metric .label { color: var(--muted); font-size: 12px; }
.metric .value { font-size: 22px; font-weight: 650; font-variant-numeric: tabular-nums; }
.metric.main { border-color: #93c5fd; background: #eff6ff; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 360px), 1fr)); gap: 16px; margin-bottom: 16px; }
.facts { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 16px; margin-bottom: 16px; align-items: start; }
.stack { display: grid; gap: 16px; }
@media (max-width: 820px) { .facts { grid-template-columns: minmax(0, 1fr); } }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; min-width: 0; }
.plot { width: 100%; min-height: 260px; }
.note { color: var(--muted); font-style: italic; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: right; padding: 4px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
thead th { color: var(--muted); font-weight: 600; font-size: 12px; }
td.best { font-weight: 650; color: #15803d; }
.kv td:first-child { color: var(--muted); white-space: nowrap; width: 1%; padding-right: 18px; }
.kv td { text-align: left; white-space: normal; word-break: break-word; }
.samples { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 12px; }
figure { margin: 0; background: var(--card); border: 1px solid var(--line); border-radius: 10px; overflow: hidden; }
figure img { display: block; width: 100%; height: auto; image-rendering: pixelated; background: #111; }
figcaption { padding: 6px 10px; font-size: 12px; }
figcaption .name { display: block; font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
figcaption .scores { color: var(--muted); font-variant-numeric: tabular-nums; }
.kind { font-size: 11px; font-weight: 600; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); margin: 14px 0 8px; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 18px; margin: 0 0 6px; color: var(--muted); font-size: 13px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 3px; vertical-align: -1px; margin-right: 6px; }
pre { margin: 0; padding: 12px; background: #f8fafc; border: 1px solid var(--line); border-radius: 8px; overflow: auto;
  max-height: 480px; font: 12px/1.5 ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; }
details > summary { cursor: pointer; font-weight: 600; margin-bottom: 8px; }
.scroll { overflow-x: auto; }
footer { color: var(--muted); font-size: 12px; margin-top: 24px; }
.uplot .u-title { font-size: 14px; font-weight: 600; }
.uplot .u-legend { font-size: 12px; }
`;

/**
 * Draws every plot the JSON block lists with uPlot, sized to its card and redrawn on resize.
 * Plain ES2017 in a string, not compiled code, so that no build step's helpers leak into it.
 */
export const PAGE_SCRIPT = `(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  function format(kind, v) {
    if (v === null || v === undefined || !isFinite(v)) return '\\u2013';
    if (kind === 'metric') return v.toFixed(4);
    if (kind === 'percent') return (v * 100).toFixed(1) + '%';
    if (kind === 'lr') return v === 0 ? '0' : v.toExponential(2);
    if (kind === 'rate') return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
    var a = Math.abs(v);
    return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(3) : String(Number(v.toPrecision(4)));
  }
  // Tick labels with as many decimals as the tick spacing needs.
  function ticks(kind, log) {
    return function (u, values, axis, space, incr) {
      // A log axis leaves some ticks unlabelled (null); its labels are decades and their multiples.
      if (log) return values.map(function (v) { return v === null || v === undefined ? '' : String(+v.toPrecision(2)); });
      var step = kind === 'percent' ? incr * 100 : incr;
      var decimals = step > 0 ? Math.min(Math.max(0, -Math.floor(Math.log10(step) + 1e-9)), 8) : 0;
      var top = Math.max.apply(null, values.map(Math.abs));
      var mantissa = step > 0 && top > 0 ? Math.min(Math.max(1, Math.floor(Math.log10(top)) - Math.floor(Math.log10(step) + 1e-9)), 6) : 1;
      return values.map(function (v) {
        if (kind === 'percent') return (v * 100).toFixed(decimals) + '%';
        if (kind === 'lr') return v === 0 ? '0' : v.toExponential(mantissa);
        return v.toFixed(decimals);
      });
    };
  }
  // One point alone has no extent: widen the scale so it lands in the middle.
  function padded(u, min, max) {
    if (min === null || max === null) return [0, 1];
    if (min === max) { var d = min === 0 ? 1 : Math.abs(min) * 0.1; return [min - d, max + d]; }
    return [min, max];
  }
  var WHOLE = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 25000, 50000, 100000, 200000, 500000, 1000000];
  var plots = [];
  data.plots.forEach(function (p) {
    var el = document.getElementById(p.id);
    if (!el) return;
    var few = p.x.length <= 40;
    var series = [{ label: p.xLabel, value: function (u, v) { return v === null || v === undefined ? '\\u2013' : String(v); } }];
    p.series.forEach(function (s) {
      series.push({
        label: s.label, stroke: s.color, width: 2, scale: s.scale || 'y', spanGaps: true,
        points: { show: few, size: 6, fill: s.color, stroke: s.color },
        value: function (u, v) { return format(s.format, v); }
      });
    });
    var first = p.series[0];
    var y2 = p.series.filter(function (s) { return s.scale === 'y2'; })[0];
    var axes = [
      // Epochs and steps are counted: whole-number ticks only.
      { label: p.xLabel, stroke: '#6b7280', grid: { stroke: '#eef0f3' }, ticks: { stroke: '#e5e7eb' }, incrs: WHOLE,
        values: function (u, values) { return values.map(function (v) { return String(v); }); } },
      { label: p.yLabel, scale: 'y', size: 64, stroke: '#6b7280', grid: { stroke: '#eef0f3' }, ticks: { stroke: '#e5e7eb' }, values: ticks(first.format, p.log) }
    ];
    var scales = { x: { time: false, range: padded }, y: p.log ? { distr: 3, log: 10 } : { range: padded } };
    if (y2) {
      axes.push({ label: p.y2Label, scale: 'y2', side: 1, size: 56, stroke: '#6b7280', grid: { show: false }, values: ticks(y2.format) });
      scales.y2 = { range: padded };
    }
    var width = Math.max(el.clientWidth, 240);
    var u = new uPlot({ width: width, height: 240, series: series, axes: axes, scales: scales, cursor: { drag: { x: true, y: false } } },
      [p.x].concat(p.series.map(function (s) { return s.values; })), el);
    plots.push({ u: u, el: el });
  });
  var pending = 0;
  window.addEventListener('resize', function () {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(function () {
      plots.forEach(function (p) { p.u.setSize({ width: Math.max(p.el.clientWidth, 240), height: 240 }); });
    });
  });
})();
`;
