// `segkit data check|stats|convert|preview`: thin wrappers over the data library's functions.
import type { Command } from 'commander';
import type { OpenOptions } from '../data/open.js';

interface SourceFlags {
  format?: string;
  classes?: number;
  ignoreIndex?: number;
  labels?: string;
  size?: number;
  stride?: number;
  zoom?: number[];
}

function sourceOptions(f: SourceFlags): OpenOptions {
  const o: Record<string, unknown> = {};
  if (f.format !== undefined) o.format = f.format;
  if (f.classes !== undefined) o.classes = f.classes;
  if (f.ignoreIndex !== undefined) o.ignoreIndex = f.ignoreIndex;
  if (f.labels !== undefined) o.labels = f.labels;
  if (f.size !== undefined) o.size = f.size;
  if (f.stride !== undefined) o.stride = f.stride;
  if (f.zoom !== undefined) o.zooms = f.zoom;
  return o as OpenOptions;
}

function int(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`expected a non-negative integer, got "${v}"`);
  return n;
}

function addSourceFlags(c: Command): Command {
  return c
    .option('--format <layout>', 'folder, tianchi, tiles or geotiff (default: recognised from the layout)')
    .option('--classes <n>', 'classes the masks index (default 2)', int)
    .option('--ignore-index <n>', 'mask value of ignored pixels (default 255)', int)
    .option('--labels <file>', 'the vector label file (tiles, geotiff)')
    .option('--size <px>', 'window size for rasters (geotiff; default 512)', int)
    .option('--stride <px>', 'window step for rasters (geotiff; default: size)', int)
    .option('--zoom <z>', 'only tiles at this zoom (repeatable)', (v: string, prev: number[] = []) => [...prev, int(v)]);
}

/** Progress on stderr for a terminal, nothing when piped. */
function progress(label: string): ((done: number, total: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  return (done, total) => {
    process.stderr.write(`\r${label} ${done}/${total}`);
    if (done === total) process.stderr.write('\n');
  };
}

export function registerDataCommands(program: Command): void {
  const data = program.command('data').description('check, describe, convert and preview datasets');

  addSourceFlags(data.command('check <source>').description('open every sample and list every bad file; exit status 1 when any is bad'))
    .option('--json', 'print the report as JSON')
    .action(async (source: string, flags: SourceFlags & { json?: boolean }) => {
      const { checkDataset, formatCheckReport } = await import('../data/check.js');
      const report = await checkDataset(source, { ...sourceOptions(flags), onProgress: flags.json ? undefined : progress('checked') });
      if (flags.json) console.log(JSON.stringify(report, null, 2));
      else for (const line of formatCheckReport(report)) console.log(line);
      if (report.problems.length > 0 || report.samples === 0) process.exitCode = 1;
    });

  addSourceFlags(
    data.command('stats <source>').description('per-band statistics (mean, std, min, max, 2nd/98th percentiles) for normalisation'),
  )
    .option('--json', 'print JSON')
    .action(async (source: string, flags: SourceFlags & { json?: boolean }) => {
      const { datasetStats } = await import('../data/stats.js');
      const s = await datasetStats(source, { ...sourceOptions(flags), onProgress: flags.json ? undefined : progress('read') });
      if (flags.json) {
        console.log(JSON.stringify(s, null, 2));
        return;
      }
      const f = (xs: number[], d = 2) => xs.map((x) => x.toFixed(d)).join(', ');
      console.log(`${source}: ${s.samples} sample(s), ${s.bands} band(s), ${s.count} valid pixel(s) per band`);
      console.log(
        `  mean: ${f(s.mean)}\n  std:  ${f(s.std)}\n  min:  ${f(s.min)}\n  max:  ${f(s.max)}\n  p2:   ${f(s.p2)}\n  p98:  ${f(s.p98)}`,
      );
      console.log(`  scale (percentile stretch): ${JSON.stringify(s.stretch)}`);
    });

  addSourceFlags(data.command('convert <source>').description('write a dataset in the folder or Tianchi layout'))
    .requiredOption('--to <layout>', 'folder or tianchi')
    .requiredOption('--out <dir>', 'output folder (empty or new)')
    .option('--overwrite', 'write into a folder that already holds files (deletes nothing)')
    .action(async (source: string, flags: SourceFlags & { to: 'folder' | 'tianchi'; out: string; overwrite?: boolean }) => {
      const { convertDataset } = await import('../data/convert.js');
      const r = await convertDataset(source, {
        to: flags.to,
        out: flags.out,
        overwrite: flags.overwrite,
        source: sourceOptions(flags),
        onProgress: progress('written'),
      });
      for (const w of r.warnings) console.error(`warning: ${w}`);
      console.log(`${r.samples} sample(s) written to ${r.out} (${flags.to} layout)`);
    });

  addSourceFlags(data.command('preview <source>').description('a PNG grid of images with their masks overlaid'))
    .requiredOption('--out <file>', 'the PNG to write')
    .option('--count <n>', 'samples shown (default 16)', int)
    .option('--cell <px>', 'cell size in pixels (default 256)', int)
    .action(async (source: string, flags: SourceFlags & { out: string; count?: number; cell?: number }) => {
      const { previewDataset } = await import('../data/preview.js');
      const r = await previewDataset(source, flags.out, { count: flags.count, cell: flags.cell, source: sourceOptions(flags) });
      console.log(`${r.samples} sample(s) drawn to ${r.out}`);
    });
}
