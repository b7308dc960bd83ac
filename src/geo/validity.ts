// Polygon validity for building footprints: a cheap test for the faults that change what a
// polygon covers (a ring crossing itself, like a bow-tie; rings crossing or overlapping each
// other; a ring doubling back on itself or passing twice through a vertex), and a repair by
// polyclip-ts' union, which resolves them into a valid MultiPolygon. Most labels are valid, so
// the test must cost little: a sort-and-sweep over the segments' x-extents, which for
// building-sized rings is close to linear.

import { union } from 'polyclip-ts';
import type { Polygon, Ring } from './geojson.js';

interface Segment {
  ring: number;
  /** Index of the segment within its ring (segment k runs from vertex k to k+1). */
  k: number;
  /** Number of segments in the ring. */
  n: number;
  ax: number;
  ay: number;
  bx: number;
  by: number;
  minx: number;
  maxx: number;
  miny: number;
  maxy: number;
}

/** The ring's distinct vertices: consecutive duplicates and the closing repeat dropped. */
function distinctVertices(ring: Ring): [number, number][] {
  const out: [number, number][] = [];
  for (const p of ring) {
    const last = out[out.length - 1];
    if (!last || last[0] !== p[0] || last[1] !== p[1]) out.push(p);
  }
  while (out.length > 1 && out[0]![0] === out[out.length - 1]![0] && out[0]![1] === out[out.length - 1]![1]) out.pop();
  return out;
}

/** A vertex that occurs twice in the ring (not counting the closing repeat), or null. */
function repeatedVertex(v: [number, number][]): [number, number] | null {
  if (v.length <= 32) {
    // Building rings are short: comparing pairs beats sorting.
    for (let i = 0; i < v.length; i++) {
      for (let j = i + 1; j < v.length; j++) if (v[i]![0] === v[j]![0] && v[i]![1] === v[j]![1]) return v[i]!;
    }
    return null;
  }
  const sorted = [...v].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  for (let i = 1; i < sorted.length; i++) if (sorted[i]![0] === sorted[i - 1]![0] && sorted[i]![1] === sorted[i - 1]![1]) return sorted[i]!;
  return null;
}

function orient(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): number {
  return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
}

/** Whether two collinear segments share more than a point. */
function collinearOverlap(s: Segment, t: Segment): boolean {
  // Project on the longer axis of s.
  const useX = Math.abs(s.bx - s.ax) >= Math.abs(s.by - s.ay);
  const [s0, s1] = useX ? [Math.min(s.ax, s.bx), Math.max(s.ax, s.bx)] : [Math.min(s.ay, s.by), Math.max(s.ay, s.by)];
  const [t0, t1] = useX ? [Math.min(t.ax, t.bx), Math.max(t.ax, t.bx)] : [Math.min(t.ay, t.by), Math.max(t.ay, t.by)];
  return Math.min(s1, t1) > Math.max(s0, t0);
}

/** Whether two segments cross at a point inside both, or overlap along a stretch. */
function segmentsConflict(s: Segment, t: Segment): boolean {
  const d1 = orient(t.ax, t.ay, t.bx, t.by, s.ax, s.ay);
  const d2 = orient(t.ax, t.ay, t.bx, t.by, s.bx, s.by);
  if ((d1 > 0 && d2 > 0) || (d1 < 0 && d2 < 0)) return false;
  const d3 = orient(s.ax, s.ay, s.bx, s.by, t.ax, t.ay);
  const d4 = orient(s.ax, s.ay, s.bx, s.by, t.bx, t.by);
  if ((d3 > 0 && d4 > 0) || (d3 < 0 && d4 < 0)) return false;
  if (d1 === 0 && d2 === 0) return collinearOverlap(s, t);
  // Touching at an end point (one of the orientations zero) is allowed here; a ring passing
  // twice through one vertex is caught by the repeated-vertex test instead.
  return d1 !== 0 && d2 !== 0 && d3 !== 0 && d4 !== 0;
}

function adjacent(s: Segment, t: Segment): boolean {
  if (s.ring !== t.ring) return false;
  const d = Math.abs(s.k - t.k);
  return d === 1 || d === s.n - 1;
}

/**
 * What makes the polygon invalid, in words ('ring 0 crosses itself', 'rings 0 and 2 overlap'), or
 * null when its rings are simple and do not cross each other. Rings touching at a single point
 * (a hole touching its outer ring) are accepted.
 */
export function polygonProblem(polygon: Polygon): string | null {
  const segments: Segment[] = [];
  for (let r = 0; r < polygon.length; r++) {
    const v = distinctVertices(polygon[r]!);
    if (v.length < 3) return `ring ${r} has fewer than 3 distinct vertices`;
    const twice = repeatedVertex(v);
    if (twice) return `ring ${r} passes twice through ${twice[0]}, ${twice[1]}`;
    const n = v.length;
    for (let k = 0; k < n; k++) {
      const a = v[k]!;
      const b = v[(k + 1) % n]!;
      const c = v[(k + 2) % n]!;
      // A spike: the ring runs back along the segment it came in on.
      if (orient(a[0], a[1], b[0], b[1], c[0], c[1]) === 0 && (b[0] - a[0]) * (c[0] - b[0]) + (b[1] - a[1]) * (c[1] - b[1]) < 0) {
        return `ring ${r} doubles back on itself at ${b[0]}, ${b[1]}`;
      }
      segments.push({
        ring: r,
        k,
        n,
        ax: a[0],
        ay: a[1],
        bx: b[0],
        by: b[1],
        minx: Math.min(a[0], b[0]),
        maxx: Math.max(a[0], b[0]),
        miny: Math.min(a[1], b[1]),
        maxy: Math.max(a[1], b[1]),
      });
    }
  }
  segments.sort((s, t) => s.minx - t.minx);
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    for (let j = i + 1; j < segments.length && segments[j]!.minx <= s.maxx; j++) {
      const t = segments[j]!;
      if (t.maxy < s.miny || t.miny > s.maxy || adjacent(s, t) || !segmentsConflict(s, t)) continue;
      return s.ring === t.ring
        ? `ring ${s.ring} crosses itself`
        : `rings ${Math.min(s.ring, t.ring)} and ${Math.max(s.ring, t.ring)} cross`;
    }
  }
  return null;
}

/** The valid polygons covering what the (invalid) polygon's outer ring covers minus its holes, by polyclip-ts' union. */
export function repairPolygon(polygon: Polygon): Polygon[] {
  return union(polygon as [number, number][][]).map((p) => p.map((ring) => ring.map((q) => [q[0]!, q[1]!] as [number, number])));
}
