/**
 * The list of micro-benchmark sections, in run order. To add one: export a
 * `BenchSection` from a module here and append it, or (without editing this file) name
 * the compiled module in OPTIONAL_SECTION_MODULES: run.ts imports it when present and
 * runs its exported `section` (or `sections`).
 */
import { attributionSection } from './attribution.js';
import { codecSection } from './codec.js';
import { crcSection } from './crc.js';
import { floorSection } from './floor.js';
import { keysSection } from './keys.js';
import { lmdbSection } from './lmdb.js';
import { pathSection } from './path.js';
import type { BenchSection } from './section.js';
import { storageSection } from './storage.js';
import { latencySection, throughputSection } from './threads.js';

export const sections: BenchSection[] = [crcSection, throughputSection, latencySection, codecSection, keysSection, lmdbSection, storageSection, attributionSection, floorSection, pathSection];

/** Relative to dist/bench/micro/; missing modules are skipped with a note. */
export const OPTIONAL_SECTION_MODULES: string[] = ['./putitem.js'];
