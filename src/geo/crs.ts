// Coordinate reference systems by name, over proj4js. segkit knows the CRSs building-footprint
// data comes in (WGS 84 lon/lat, Web Mercator, WGS 84 and ETRS89 UTM zones, NAD83) without any
// network or database; any other one is a proj4 string away (`defineCrs`). Axis order is always
// x = easting/longitude, y = northing/latitude, as GeoJSON (RFC 7946) and GDAL's
// OAMS_TRADITIONAL_GIS_ORDER have it.

import proj4 from 'proj4';
import { checkString, invalidParameterError, is, show } from '../validate.js';

const registry = new Map<string, string>();
const aliases = new Map<string, string>();

function register(code: string, definition: string): void {
  registry.set(code, definition);
  proj4.defs(code, definition);
}

const WEB_MERCATOR = '+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 +k=1 +units=m +nadgrids=@null +wktext +no_defs';
register('EPSG:4326', '+proj=longlat +datum=WGS84 +no_defs');
register('EPSG:3857', WEB_MERCATOR);
register('EPSG:4269', '+proj=longlat +ellps=GRS80 +datum=NAD83 +no_defs');
for (let zone = 1; zone <= 60; zone++) {
  register(`EPSG:${32600 + zone}`, `+proj=utm +zone=${zone} +datum=WGS84 +units=m +no_defs`);
  register(`EPSG:${32700 + zone}`, `+proj=utm +zone=${zone} +south +datum=WGS84 +units=m +no_defs`);
}
for (let zone = 28; zone <= 38; zone++) {
  register(`EPSG:${25800 + zone}`, `+proj=utm +zone=${zone} +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs`);
}
// Old names of Web Mercator that still turn up in files (Google's 900913, the retired 3785,
// Esri's 102100/102113).
for (const alias of ['EPSG:900913', 'EPSG:3785', 'EPSG:102100', 'EPSG:102113', 'ESRI:102100', 'ESRI:102113'])
  aliases.set(alias, 'EPSG:3857');

const where = 'normalizeCrs';

/** 'epsg:4326' -> 'EPSG:4326': authority upper-cased, code as written. */
function authorityCode(spec: string): string | null {
  const m = /^([A-Za-z][A-Za-z0-9_]*):{1,2}([A-Za-z0-9_.-]+)$/.exec(spec);
  return m ? `${m[1]!.toUpperCase()}:${m[2]}` : null;
}

function known(code: string, spec: unknown): string {
  const canonical = aliases.get(code) ?? code;
  if (registry.has(canonical)) return canonical;
  throw new TypeError(
    `${where}: crs must be a CRS segkit knows or a proj4 string, got ${show(spec)}. segkit knows EPSG:4326, EPSG:3857, EPSG:4269, ` +
      `the WGS 84 UTM zones (EPSG:32601-32660, 32701-32760) and the ETRS89 UTM zones (EPSG:25828-25838); ` +
      `pass a proj4 string instead, or register the code first with defineCrs('${code}', '+proj=...')`,
  );
}

/**
 * The canonical name of a CRS: `'EPSG:<code>'` for 4326, 'EPSG:4326', 'epsg:4326',
 * 'urn:ogc:def:crs:EPSG::32616' (any version), 'urn:ogc:def:crs:OGC:1.3:CRS84' and 'CRS84'
 * (-> 'EPSG:4326', lon/lat order) and the old Web Mercator codes 900913/3785/102100 (-> 'EPSG:3857');
 * a name registered with `defineCrs` as given; a proj4 string ('+proj=...') or WKT passes through.
 * Throws a TypeError for a CRS it does not know, saying to pass a proj4 string or call `defineCrs`.
 */
export function normalizeCrs(spec: string | number): string {
  if (typeof spec === 'number') {
    if (!Number.isInteger(spec) || spec <= 0)
      throw invalidParameterError(where, 'crs', 'an EPSG code (a positive integer) or a CRS name', spec, RangeError);
    return known(`EPSG:${spec}`, spec);
  }
  if (typeof spec !== 'string') throw invalidParameterError(where, 'crs', 'an EPSG code, a CRS name or a proj4 string', spec);
  const s = spec.trim();
  if (s.startsWith('+') || /^(PROJCS|GEOGCS|PROJCRS|GEOGCRS|GEODCRS|COMPD_CS|LOCAL_CS)\[/i.test(s)) return s;
  if (/^(urn:ogc:def:crs:OGC:[0-9.]*:CRS84|OGC:CRS84|CRS:84|CRS84|WGS84)$/i.test(s)) return 'EPSG:4326';
  const urn = /^urn:ogc:def:crs:([A-Za-z]+):[0-9.]*:([A-Za-z0-9_.-]+)$/i.exec(s);
  if (urn) return known(`${urn[1]!.toUpperCase()}:${urn[2]}`, spec);
  if (/^\d+$/.test(s)) return known(`EPSG:${Number(s)}`, spec);
  const code = authorityCode(s);
  if (code) return known(/^EPSG:\d+$/.test(code) ? `EPSG:${Number(code.slice(5))}` : code, spec);
  if (registry.has(s)) return s;
  throw invalidParameterError(where, 'crs', "an EPSG code ('EPSG:4326'), an OGC URN or a proj4 string", spec);
}

/**
 * Registers a CRS under `code` ('EPSG:2193', 'MY:LOCAL') from its proj4 definition, so that
 * `normalizeCrs`, `reprojector` and GeoJSON `crs` members accept it. Redefining a code replaces it.
 */
export function defineCrs(code: string, proj4Definition: string): void {
  checkString('defineCrs', 'code', code);
  checkString('defineCrs', 'proj4Definition', proj4Definition);
  const name = authorityCode(code.trim()) ?? code.trim();
  if (name === '' || name.startsWith('+')) throw invalidParameterError('defineCrs', 'code', "a CRS name such as 'EPSG:2193'", code);
  const definition = proj4Definition.trim();
  try {
    proj4(definition, 'EPSG:4326');
  } catch (e) {
    throw new TypeError(
      `defineCrs: proj4Definition must be a proj4 string or WKT proj4js can read, got ${show(proj4Definition)} (${(e as Error)?.message ?? e})`,
    );
  }
  aliases.delete(name);
  register(name, definition);
}

/**
 * The CRS named by a GeoJSON object's `crs` member (the 2008 GeoJSON spec's named CRS,
 * `{ type: 'name', properties: { name: 'urn:ogc:def:crs:EPSG::32616' } }`, or the older
 * `{ type: 'EPSG', properties: { code: 32616 } }`), normalized; null when there is none
 * (RFC 7946: lon/lat). Throws for a `crs` member it cannot read (a linked CRS, an unknown code).
 */
export function geoJsonCrs(geojson: unknown): string | null {
  if (!is.object(geojson) || geojson.crs === undefined || geojson.crs === null) return null;
  const crs = geojson.crs;
  const props = is.object(crs) && is.object(crs.properties) ? crs.properties : null;
  if (is.object(crs) && props && (crs.type === 'name' || crs.type === 'EPSG')) {
    const value = crs.type === 'name' ? props.name : props.code;
    if (typeof value === 'string' || typeof value === 'number') return normalizeCrs(crs.type === 'EPSG' ? Number(value) : value);
  }
  throw invalidParameterError(
    'geoJsonCrs',
    'crs',
    "a named CRS ({ type: 'name', properties: { name: 'urn:ogc:def:crs:EPSG::<code>' } })",
    crs,
  );
}

/** proj4's definition of a normalized CRS name (or the proj4 string itself). */
function definitionOf(crs: string): string {
  return registry.get(crs) ?? crs;
}

/**
 * A function that converts a point from CRS `from` to CRS `to` (any spelling `normalizeCrs`
 * accepts). Identity when both name the same CRS. Axis order is always x = easting/longitude,
 * y = northing/latitude, degrees for geographic CRSs.
 */
export function reprojector(from: string, to: string): (x: number, y: number) => [number, number] {
  const a = normalizeCrs(from);
  const b = normalizeCrs(to);
  if (a === b) return (x, y) => [x, y];
  let converter: proj4.Converter;
  try {
    converter = proj4(definitionOf(a), definitionOf(b));
  } catch (e) {
    throw new TypeError(`reprojector: cannot convert from ${show(from)} to ${show(to)}: ${(e as Error)?.message ?? e}`);
  }
  return (x, y) => {
    const p = converter.forward([x, y]) as number[];
    return [p[0]!, p[1]!];
  };
}

/** True for the geographic lon/lat CRSs segkit knows (EPSG:4326, EPSG:4269). */
export function isLonLat(crs: string): boolean {
  const c = normalizeCrs(crs);
  return c === 'EPSG:4326' || c === 'EPSG:4269' || /\+proj=(longlat|latlong|lonlat|latlon)\b/.test(c);
}
