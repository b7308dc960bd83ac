// segkit polygons to and from jsts geometries. Kept apart from simplify.ts so that no public
// declaration file names a jsts type: jsts' own generated types differ from src/geo/jsts.d.ts.

import Coordinate from 'jsts/org/locationtech/jts/geom/Coordinate.js';
import type { JstsGeometry, JstsLinearRing, JstsPolygon } from 'jsts/org/locationtech/jts/geom/Geometry.js';
import GeometryFactory from 'jsts/org/locationtech/jts/geom/GeometryFactory.js';
import type { Polygon, Ring } from './geojson.js';

export const factory = new GeometryFactory();

function ringToJsts(ring: Ring): JstsLinearRing {
  const coords = ring.map((p) => new Coordinate(p[0], p[1]));
  const first = ring[0];
  const last = ring[ring.length - 1];
  if (first && last && (first[0] !== last[0] || first[1] !== last[1])) coords.push(new Coordinate(first[0], first[1]));
  return factory.createLinearRing(coords);
}

/** A segkit polygon (closed or open rings) as a jsts Polygon. Throws for a ring jsts refuses (fewer than 4 positions closed). */
export function toJsts(polygon: Polygon): JstsPolygon {
  const [shell, ...holes] = polygon;
  return factory.createPolygon(ringToJsts(shell ?? []), holes.map(ringToJsts));
}

/** Several polygons as one jsts MultiPolygon. */
export function toJstsMulti(polygons: readonly Polygon[]): JstsGeometry {
  return factory.createMultiPolygon(polygons.map(toJsts));
}

function ringFromJsts(ring: JstsLinearRing): Ring {
  return ring.getCoordinates().map((c) => [c.x, c.y] as [number, number]);
}

/** The polygons of a jsts geometry (a Polygon, a MultiPolygon or a collection); lines and points are dropped. */
export function fromJsts(geometry: JstsGeometry): Polygon[] {
  const out: Polygon[] = [];
  const visit = (g: JstsGeometry): void => {
    const type = g.getGeometryType();
    if (type === 'Polygon') {
      if (g.isEmpty()) return;
      const p = g as JstsPolygon;
      const rings = [ringFromJsts(p.getExteriorRing())];
      for (let i = 0; i < p.getNumInteriorRing(); i++) rings.push(ringFromJsts(p.getInteriorRingN(i)));
      out.push(rings);
    } else if (type === 'MultiPolygon' || type === 'GeometryCollection') {
      for (let i = 0; i < g.getNumGeometries(); i++) visit(g.getGeometryN(i));
    }
  };
  visit(geometry);
  return out;
}
