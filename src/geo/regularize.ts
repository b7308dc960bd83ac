// Right-angled building outlines. Most buildings are rectilinear, while a traced and simplified
// outline wobbles around its walls. The dominant orientation is taken three ways: the minimum-area
// rectangle (jsts' MinimumDiameter), the length-weighted mean edge direction modulo 90 degrees
// (angles times four averaged as unit vectors, so 0, 90, 180 and 270 degrees agree) and the
// longest edge (the one a building cut by the raster's edge keeps best); each edge
// then snaps to that orientation or its perpendicular, runs of edges along the same axis merge
// into one wall at their length-weighted mean offset, walls shorter than `minEdge` are absorbed
// by their neighbours, and consecutive walls meet at right angles. Of the orientations the
// one whose outline overlaps the input best wins; an outline that is invalid or overlaps the
// reference (the exact traced outline) by less than `minIoU` is refused (null), and callers keep
// the unregularised one.

import MinimumDiameter from 'jsts/org/locationtech/jts/algorithm/MinimumDiameter.js';
import { readOptions } from '../validate.js';
import type { Polygon, Ring } from './geojson.js';
import { toJsts } from './jsts-geometry.js';
import { polygonIoU, validityError } from './simplify.js';

/** Options of `regularizePolygon`. */
export interface RegularizeOptions {
  /** The least IoU with the reference outline a regularised one must reach to be kept (default 0.85). */
  minIoU?: number;
  /** Walls shorter than this (in the polygon's units) are absorbed by their neighbours (default 1.5, in pixels). */
  minEdge?: number;
}

interface Wall {
  /** True for a wall along the (rotated) x axis: its offset is a y. */
  horizontal: boolean;
  offset: number;
  length: number;
}

function distinct(ring: Ring): Ring {
  const out: Ring = [];
  for (const p of ring) {
    const last = out[out.length - 1];
    if (!last || last[0] !== p[0] || last[1] !== p[1]) out.push(p);
  }
  if (out.length > 1 && out[0]![0] === out[out.length - 1]![0] && out[0]![1] === out[out.length - 1]![1]) out.pop();
  return out;
}

/** The walls of a ring rotated by -angle, runs along one axis merged. */
function wallsOf(ring: Ring, cos: number, sin: number): Wall[] {
  const pts = distinct(ring).map(([x, y]) => [x * cos + y * sin, -x * sin + y * cos] as [number, number]);
  const walls: Wall[] = [];
  for (let i = 0; i < pts.length; i++) {
    const [ax, ay] = pts[i]!;
    const [bx, by] = pts[(i + 1) % pts.length]!;
    const dx = bx - ax;
    const dy = by - ay;
    const length = Math.hypot(dx, dy);
    if (length === 0) continue;
    const horizontal = Math.abs(dx) >= Math.abs(dy);
    walls.push({ horizontal, offset: horizontal ? (ay + by) / 2 : (ax + bx) / 2, length });
  }
  return walls;
}

function merge(a: Wall, b: Wall): Wall {
  const length = a.length + b.length;
  return { horizontal: a.horizontal, offset: (a.offset * a.length + b.offset * b.length) / length, length };
}

/** Merges neighbours along the same axis, the ring's last and first walls included. */
function mergeRuns(walls: Wall[]): Wall[] {
  const out: Wall[] = [];
  for (const w of walls) {
    const last = out[out.length - 1];
    if (last && last.horizontal === w.horizontal) out[out.length - 1] = merge(last, w);
    else out.push(w);
  }
  while (out.length > 1 && out[0]!.horizontal === out[out.length - 1]!.horizontal) out[0] = merge(out.pop()!, out[0]!);
  return out;
}

/** The ring rebuilt from axis-aligned walls at `angle`, or null when it has too few walls. */
function rebuildRing(ring: Ring, angle: number, minEdge: number): Ring | null {
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  let walls = mergeRuns(wallsOf(ring, cos, sin));
  for (;;) {
    if (walls.length < 4) return null;
    let shortest = 0;
    for (let i = 1; i < walls.length; i++) if (walls[i]!.length < walls[shortest]!.length) shortest = i;
    if (walls[shortest]!.length >= minEdge || walls.length === 4) break;
    // Dropping a short wall leaves its two neighbours on one axis: mergeRuns joins them.
    walls = mergeRuns(walls.filter((_, i) => i !== shortest));
  }
  if (walls.length % 2 !== 0) return null;
  const out: Ring = [];
  for (let i = 0; i < walls.length; i++) {
    const a = walls[i]!;
    const b = walls[(i + 1) % walls.length]!;
    const rx = a.horizontal ? b.offset : a.offset;
    const ry = a.horizontal ? a.offset : b.offset;
    out.push([rx * cos - ry * sin, rx * sin + ry * cos]);
  }
  out.push([out[0]![0], out[0]![1]]);
  return out;
}

/** The angle (radians, in [0, pi/2)) of the minimum-area rectangle around the polygon's shell. */
function rectangleAngle(polygon: Polygon): number | null {
  try {
    const rect = MinimumDiameter.getMinimumRectangle(toJsts([polygon[0]!])).getCoordinates();
    if (rect.length < 2) return null;
    const a = Math.atan2(rect[1]!.y - rect[0]!.y, rect[1]!.x - rect[0]!.x);
    return ((a % (Math.PI / 2)) + Math.PI / 2) % (Math.PI / 2);
  } catch {
    return null;
  }
}

/** The direction of the longest edge of the outer ring modulo 90 degrees (radians, in [0, pi/2)). */
function longestEdgeAngle(polygon: Polygon): number {
  const ring = polygon[0]!;
  let best = 0;
  let angle = 0;
  for (let i = 1; i < ring.length; i++) {
    const dx = ring[i]![0] - ring[i - 1]![0];
    const dy = ring[i]![1] - ring[i - 1]![1];
    const length = Math.hypot(dx, dy);
    if (length > best) {
      best = length;
      angle = Math.atan2(dy, dx);
    }
  }
  return ((angle % (Math.PI / 2)) + Math.PI / 2) % (Math.PI / 2);
}

/** The length-weighted mean edge direction modulo 90 degrees (radians, in [0, pi/2)). */
function edgeAngle(polygon: Polygon): number {
  let sx = 0;
  let sy = 0;
  for (const ring of polygon) {
    for (let i = 1; i < ring.length; i++) {
      const dx = ring[i]![0] - ring[i - 1]![0];
      const dy = ring[i]![1] - ring[i - 1]![1];
      const length = Math.hypot(dx, dy);
      const a = 4 * Math.atan2(dy, dx);
      sx += length * Math.cos(a);
      sy += length * Math.sin(a);
    }
  }
  const a = Math.atan2(sy, sx) / 4;
  return (a + Math.PI / 2) % (Math.PI / 2);
}

/**
 * `polygon` (outer ring then holes, e.g. a simplified traced outline) with every wall parallel or
 * perpendicular to its dominant orientation, or null when that cannot be done validly: too few
 * walls (a triangle), an invalid result, or an IoU with `reference` (default: `polygon` itself)
 * below `options.minIoU`. Holes that cannot be regularised are dropped only if the result stays
 * within minIoU; otherwise the whole polygon is refused.
 */
export function regularizePolygon(polygon: Polygon, reference?: Polygon, options?: RegularizeOptions): Polygon | null {
  const o = readOptions('regularizePolygon', options, ['minIoU', 'minEdge']);
  const minIoU = o.number('minIoU', 0.85, { min: 0, max: 1 });
  const minEdge = o.number('minEdge', 1.5, { min: 0 });
  const ref = reference ?? polygon;
  const angles: number[] = [];
  for (const a of [edgeAngle(polygon), rectangleAngle(polygon), longestEdgeAngle(polygon)])
    if (a !== null && angles.every((b) => Math.abs(a - b) > 1e-6)) angles.push(a);
  let best: Polygon | null = null;
  let bestIoU = -1;
  for (const angle of angles) {
    const shell = rebuildRing(polygon[0]!, angle, minEdge);
    if (shell === null) continue;
    const candidate: Polygon = [shell];
    for (const hole of polygon.slice(1)) {
      const h = rebuildRing(hole, angle, minEdge);
      if (h !== null) candidate.push(h);
    }
    if (validityError(candidate) !== null) continue;
    // Candidates are ranked against the input outline, which has few vertices (a cheap overlay);
    // only the winner is measured against the reference.
    const iou = polygonIoU(candidate, polygon);
    if (iou > bestIoU) {
      best = candidate;
      bestIoU = iou;
    }
  }
  if (best === null || !(bestIoU >= minIoU)) return null;
  return ref === polygon || polygonIoU(best, ref) >= minIoU ? best : null;
}
