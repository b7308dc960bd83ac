// geotiff.js, loaded on first use. Its web-worker dependency decides at import time what it is:
// in a Node worker thread (Node 20 has no global Worker) it takes the thread for one of its own
// pool workers and throws, which would break every worker that imports segkit. segkit never uses
// geotiff.js's worker pools, so in a worker thread a stand-in Worker is present only while the
// module evaluates, and the dependency leaves the thread alone.
import { isMainThread } from 'node:worker_threads';

type GeoTiffModule = typeof import('geotiff');
let loading: Promise<GeoTiffModule> | null = null;

class NoPoolWorker {
  constructor() {
    throw new Error('segkit reads GeoTIFFs without geotiff.js worker pools');
  }
}

async function load(): Promise<GeoTiffModule> {
  const g = globalThis as { Worker?: unknown };
  const shim = !isMainThread && typeof g.Worker !== 'function';
  if (shim) g.Worker = NoPoolWorker;
  try {
    return await import('geotiff');
  } finally {
    if (shim && g.Worker === NoPoolWorker) delete g.Worker;
  }
}

/** The geotiff.js module (imported once, on first use). */
export function loadGeoTiff(): Promise<GeoTiffModule> {
  loading ??= load();
  return loading;
}
