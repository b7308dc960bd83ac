// Types for the few jsts (JTS in JavaScript, 2.x) modules segkit uses. jsts ships declarations
// generated from its JavaScript, where nearly every argument and result is `any`; these ambient
// declarations take precedence and say what simplify.ts and regularize.ts rely on. The modules
// are imported one by one by their ESM paths: the package has no `main` or `exports` entry.

declare module 'jsts/org/locationtech/jts/geom/Coordinate.js' {
  export default class Coordinate {
    constructor(x: number, y: number);
    x: number;
    y: number;
  }
}

declare module 'jsts/org/locationtech/jts/geom/GeometryFactory.js' {
  import type Coordinate from 'jsts/org/locationtech/jts/geom/Coordinate.js';
  import type { JstsGeometry, JstsLinearRing, JstsPolygon } from 'jsts/org/locationtech/jts/geom/Geometry.js';
  export default class GeometryFactory {
    createLinearRing(coordinates: Coordinate[]): JstsLinearRing;
    createPolygon(shell: JstsLinearRing, holes?: JstsLinearRing[]): JstsPolygon;
    createMultiPolygon(polygons: JstsPolygon[]): JstsGeometry;
    createGeometryCollection(geometries: JstsGeometry[]): JstsGeometry;
  }
}

declare module 'jsts/org/locationtech/jts/geom/Geometry.js' {
  import type Coordinate from 'jsts/org/locationtech/jts/geom/Coordinate.js';
  export interface JstsGeometry {
    getGeometryType(): string;
    getArea(): number;
    isEmpty(): boolean;
    getNumGeometries(): number;
    getGeometryN(n: number): JstsGeometry;
    getCoordinates(): Coordinate[];
  }
  export interface JstsLinearRing extends JstsGeometry {}
  export interface JstsPolygon extends JstsGeometry {
    getExteriorRing(): JstsLinearRing;
    getNumInteriorRing(): number;
    getInteriorRingN(n: number): JstsLinearRing;
  }
}

declare module 'jsts/org/locationtech/jts/operation/valid/IsValidOp.js' {
  import type { JstsGeometry } from 'jsts/org/locationtech/jts/geom/Geometry.js';
  export default class IsValidOp {
    constructor(geometry: JstsGeometry);
    isValid(): boolean;
    getValidationError(): { getMessage(): string; getCoordinate(): { x: number; y: number } | null } | null;
  }
}

declare module 'jsts/org/locationtech/jts/simplify/TopologyPreservingSimplifier.js' {
  import type { JstsGeometry } from 'jsts/org/locationtech/jts/geom/Geometry.js';
  // A static-only class in jsts: declared as the object it is used as.
  const TopologyPreservingSimplifier: {
    simplify(geometry: JstsGeometry, distanceTolerance: number): JstsGeometry;
  };
  export default TopologyPreservingSimplifier;
}

declare module 'jsts/org/locationtech/jts/operation/buffer/BufferOp.js' {
  import type { JstsGeometry } from 'jsts/org/locationtech/jts/geom/Geometry.js';
  // A static-only class in jsts: declared as the object it is used as.
  const BufferOp: {
    bufferOp(geometry: JstsGeometry, distance: number): JstsGeometry;
  };
  export default BufferOp;
}

declare module 'jsts/org/locationtech/jts/operation/overlay/OverlayOp.js' {
  import type { JstsGeometry } from 'jsts/org/locationtech/jts/geom/Geometry.js';
  // A static-only class in jsts: declared as the object it is used as.
  const OverlayOp: {
    intersection(a: JstsGeometry, b: JstsGeometry): JstsGeometry;
    union(a: JstsGeometry, b: JstsGeometry): JstsGeometry;
  };
  export default OverlayOp;
}

declare module 'jsts/org/locationtech/jts/algorithm/MinimumDiameter.js' {
  import type { JstsGeometry } from 'jsts/org/locationtech/jts/geom/Geometry.js';
  // A static-only class in jsts: declared as the object it is used as.
  const MinimumDiameter: {
    getMinimumRectangle(geometry: JstsGeometry): JstsGeometry;
  };
  export default MinimumDiameter;
}
