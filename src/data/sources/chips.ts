// Where the windows of a raster source lie: a grid that covers every pixel, or seeded random draws.
import type { Window } from '../dataset.js';
import type { Random } from '../random.js';

/** What planning needs of a raster: its size and its buildings' pixel boxes (minx, miny, maxx, maxy per polygon). */
export interface RasterPlan {
  width: number;
  height: number;
  boxes: Float64Array;
}

export interface PlannedWindow {
  raster: number;
  window: Window;
}

/** Window starts along one axis: every `stride`, plus one flush with the far edge so nothing is left out. */
export function gridStarts(length: number, size: number, stride: number): number[] {
  if (length <= size) return [0];
  const starts: number[] = [];
  for (let x = 0; x + size <= length; x += stride) starts.push(x);
  const last = length - size;
  if (starts[starts.length - 1] !== last) starts.push(last);
  return starts;
}

/** A grid of size x size windows over every raster, row by row; rasters smaller than a window give one padded window. */
export function planGrid(rasters: readonly RasterPlan[], size: number, stride: number): PlannedWindow[] {
  const out: PlannedWindow[] = [];
  rasters.forEach((r, raster) => {
    for (const y of gridStarts(r.height, size, stride)) {
      for (const x of gridStarts(r.width, size, stride)) out.push({ raster, window: { x, y, width: size, height: size } });
    }
  });
  return out;
}

/**
 * `count` windows drawn from `random`: with probability `buildingWeight` around a building
 * (its box centre, jittered by up to a quarter window), else anywhere, rasters weighted by area.
 */
export function planRandom(
  rasters: readonly RasterPlan[],
  size: number,
  count: number,
  random: Random,
  buildingWeight: number,
): PlannedWindow[] {
  const areas = rasters.map((r) => r.width * r.height);
  const totalArea = areas.reduce((a, b) => a + b, 0);
  const buildings: { raster: number; box: number }[] = [];
  rasters.forEach((r, raster) => {
    for (let b = 0; b < r.boxes.length / 4; b++) {
      const x0 = r.boxes[b * 4]!;
      const y0 = r.boxes[b * 4 + 1]!;
      const x1 = r.boxes[b * 4 + 2]!;
      const y1 = r.boxes[b * 4 + 3]!;
      if (x1 >= 0 && y1 >= 0 && x0 <= r.width && y0 <= r.height) buildings.push({ raster, box: b });
    }
  });
  const clampStart = (v: number, length: number) => Math.min(Math.max(0, Math.round(v)), Math.max(0, length - size));
  const out: PlannedWindow[] = [];
  for (let i = 0; i < count; i++) {
    if (buildings.length > 0 && random.next() < buildingWeight) {
      const { raster, box } = buildings[random.int(buildings.length)]!;
      const r = rasters[raster]!;
      const cx = (r.boxes[box * 4]! + r.boxes[box * 4 + 2]!) / 2 + (random.next() - 0.5) * (size / 2);
      const cy = (r.boxes[box * 4 + 1]! + r.boxes[box * 4 + 3]!) / 2 + (random.next() - 0.5) * (size / 2);
      out.push({
        raster,
        window: { x: clampStart(cx - size / 2, r.width), y: clampStart(cy - size / 2, r.height), width: size, height: size },
      });
      continue;
    }
    let pick = random.next() * totalArea;
    let raster = 0;
    while (raster < rasters.length - 1 && pick >= areas[raster]!) pick -= areas[raster++]!;
    const r = rasters[raster]!;
    const x = random.int(Math.max(1, r.width - size + 1));
    const y = random.int(Math.max(1, r.height - size + 1));
    out.push({ raster, window: { x, y, width: size, height: size } });
  }
  return out;
}
