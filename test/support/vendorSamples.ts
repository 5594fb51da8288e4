import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * Real recorded vendor responses are given to the team beside the repository
 * (`../shared/data/vendor-samples/`, sources in its `sources.json`); they came from other
 * projects' repositories, so they are read from there, not copied in. Where the folder is
 * absent, the tests on them skip with one line; under CI=true that is a failure.
 */
export const VENDOR_SAMPLES_DIR = process.env.VENDOR_SAMPLES_DIR ?? path.resolve(import.meta.dirname, '..', '..', '..', 'shared', 'data', 'vendor-samples');

export const vendorSamplesAvailable = existsSync(path.join(VENDOR_SAMPLES_DIR, 'sources.json'));

if (!vendorSamplesAvailable) {
  const line = `Recorded vendor responses not found at ${VENDOR_SAMPLES_DIR} (../shared/data/vendor-samples beside the repo, or VENDOR_SAMPLES_DIR): the tests on them are skipped.`;
  if (process.env.CI === 'true') throw new Error(line);
  console.warn(line);
}

/** The path of a recorded response, e.g. `vendorSamplePath('eodhd', 'div-CEZ.PR.json')`. */
export function vendorSamplePath(vendor: 'eodhd' | 'twelvedata', name: string): string {
  return path.join(VENDOR_SAMPLES_DIR, vendor, name);
}
