// Tracing a binary mask into polygons along pixel edges, so that rasterising a traced polygon
// with the repo's rasteriser (pixel centres inside) gives back exactly the pixels it came from.
//
// Every unit edge between a foreground and a background pixel (outside the raster counts as
// background) is walked once, foreground on the right-hand side, keeping only the corners. Where
// two foreground pixels touch only at a corner (a saddle), the walk turns around its own pixel:
// a valid polygon's interior is connected, and pixels meeting at a corner share no interior, so
// only edge-connected (4-connected) pixels can make one polygon. A walk may still pass twice
// through a saddle vertex (an edge-connected outline that touches itself); it is cut there into
// loops that each pass once, so every ring is simple and rings only touch at saddle vertices. A
// loop's signed area says whether it is an outer ring (positive: clockwise on screen, y down) or a
// hole: each 4-connected component has exactly one outer ring.
//
// Under 8-connectivity a component whose pixels also meet at corners is the union of several
// 4-connected parts touching at those corners: it becomes a MultiPolygon of those parts, which is
// valid, where gdal_polygonize -8 writes one self-touching polygon that OGC's rules reject.

import { label } from '../metrics/components.js';
import type { Polygon, Ring } from './geojson.js';

/** The polygons traced from one connected component, in pixel coordinates. */
export interface TracedComponent {
  /** Label of the component (1..count, raster order of its first pixel, as metrics.connectedComponents numbers them). */
  label: number;
  /** Its outline: one polygon; under 8-connectivity, one per 4-connected part (parts touch only at corners). */
  parts: Polygon[];
  /** Its pixel count. */
  pixels: number;
}

/** A traced mask: the components and their labelling. */
export interface Traced {
  components: TracedComponent[];
  labels: Int32Array;
}

/** Twice the signed area of a closed ring given as flat x, y pairs (positive: clockwise on screen). */
function twiceArea(xy: number[], start: number, end: number): number {
  let sum = 0;
  const last = end - 2;
  for (let i = start; i < end; i += 2) {
    const j = i === last ? start : i + 2;
    sum += xy[i]! * xy[j + 1]! - xy[j]! * xy[i + 1]!;
  }
  return sum;
}

function toRing(xy: number[], start: number, end: number): Ring {
  const ring: Ring = [];
  for (let i = start; i < end; i += 2) ring.push([xy[i]!, xy[i + 1]!]);
  ring.push([xy[start]!, xy[start + 1]!]);
  return ring;
}

interface Loop {
  ring: Ring;
  /** Twice the signed area. */
  area: number;
}

/**
 * Traces every connected component of `mask` (width * height bytes, row-major, nonzero =
 * foreground) into polygons along pixel edges, in pixel coordinates ((0, 0) the top-left corner
 * of the raster). Rings are closed, outer rings clockwise on screen (a positive shoelace sum with
 * y down), holes the other way. No argument checks: maskToPolygons makes them.
 */
export function traceMask(mask: Uint8Array, width: number, height: number, eight: boolean): Traced {
  const { labels, count, areas } = label(mask, width, height, false);
  const fg = (x: number, y: number): boolean => x >= 0 && y >= 0 && x < width && y < height && mask[y * width + x] !== 0;
  const shells: (Loop | undefined)[] = new Array(count);
  const holes: Loop[][] = Array.from({ length: count }, () => []);
  // Horizontal unit edges already walked: every ring has one, so scanning them finds every ring.
  const walked = new Uint8Array(width * (height + 1));
  // Stack offsets of the saddle vertices on the current walk, to cut the walk into loops there.
  const seen = new Map<number, number>();
  const xy: number[] = [];
  const loops: Loop[] = [];
  const emitLoop = (start: number): void => {
    loops.push({ ring: toRing(xy, start, xy.length), area: twiceArea(xy, start, xy.length) });
  };
  for (let y = 0; y <= height; y++) {
    for (let x = 0; x < width; x++) {
      const e = y * width + x;
      if (walked[e]) continue;
      const above = fg(x, y - 1);
      const below = fg(x, y);
      if (above === below) continue;
      // Directions: 0 east, 1 south, 2 west, 3 north (y down). A top edge of the foreground is
      // walked east, a bottom edge west, so the foreground stays on the right.
      const component = labels[(below ? y : y - 1) * width + x]!;
      const d0 = below ? 0 : 2;
      const sx = below ? x : x + 1;
      const sy = y;
      let cx = sx;
      let cy = sy;
      let d = d0;
      xy.length = 0;
      seen.clear();
      loops.length = 0;
      for (;;) {
        if (d === 0) walked[cy * width + cx] = 1;
        else if (d === 2) walked[cy * width + cx - 1] = 1;
        cx += d === 0 ? 1 : d === 2 ? -1 : 0;
        cy += d === 1 ? 1 : d === 3 ? -1 : 0;
        // The pixels ahead on the left and on the right of the direction of travel.
        let aheadLeft: boolean;
        let aheadRight: boolean;
        if (d === 0) {
          aheadLeft = fg(cx, cy - 1);
          aheadRight = fg(cx, cy);
        } else if (d === 1) {
          aheadLeft = fg(cx, cy);
          aheadRight = fg(cx - 1, cy);
        } else if (d === 2) {
          aheadLeft = fg(cx - 1, cy);
          aheadRight = fg(cx - 1, cy - 1);
        } else {
          aheadLeft = fg(cx - 1, cy - 1);
          aheadRight = fg(cx, cy - 1);
        }
        let next = d;
        const saddle = aheadLeft && !aheadRight;
        if (aheadLeft && aheadRight) next = (d + 3) & 3;
        else if (!aheadRight) next = (d + 1) & 3;
        if (next !== d) {
          if (saddle) {
            const v = cy * (width + 1) + cx;
            const at = seen.get(v);
            if (at !== undefined) {
              // The second pass through this vertex closes a loop: cut it off the walk.
              emitLoop(at);
              for (let i = at + 2; i < xy.length; i += 2) seen.delete(xy[i + 1]! * (width + 1) + xy[i]!);
              xy.length = at;
            }
            seen.set(v, xy.length);
          }
          xy.push(cx, cy);
        }
        if (cx === sx && cy === sy && next === d0) break;
        d = next;
      }
      emitLoop(0);
      for (const loop of loops) {
        if (loop.area < 0) holes[component - 1]!.push(loop);
        else if (shells[component - 1] === undefined) shells[component - 1] = loop;
        else throw new Error(`traceMask: internal error: component ${component} has two outer rings`);
      }
    }
  }
  if (!eight) {
    const components = shells.map((shell, c) => ({
      label: c + 1,
      parts: [[shell!.ring, ...holes[c]!.map((h) => h.ring)]],
      pixels: areas[c]!,
    }));
    return { components, labels };
  }
  // Each 8-connected component gathers the 4-connected ones it is made of, in raster order.
  const eightfold = label(mask, width, height, true);
  const components: TracedComponent[] = Array.from({ length: eightfold.count }, (_, c) => ({
    label: c + 1,
    parts: [],
    pixels: eightfold.areas[c]!,
  }));
  const seenLabel = new Uint8Array(count + 1);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i]!;
    if (c === 0 || seenLabel[c]) continue;
    seenLabel[c] = 1;
    components[eightfold.labels[i]! - 1]!.parts.push([shells[c - 1]!.ring, ...holes[c - 1]!.map((h) => h.ring)]);
  }
  return { components, labels: eightfold.labels };
}
