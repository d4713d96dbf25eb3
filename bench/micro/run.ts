/**
 * `npm run bench:micro` (= build, then `node dist/bench/micro/run.js [section...]`).
 * Runs the sections of sections.ts plus optional ones (putitem, durability), then prints one table:
 * measured value next to its target or reference.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BenchRow, BenchSection } from './section.js';
import { OPTIONAL_SECTION_MODULES, sections } from './sections.js';

async function loadOptional(): Promise<{ loaded: BenchSection[]; notes: string[] }> {
  const loaded: BenchSection[] = [];
  const notes: string[] = [];
  for (const spec of OPTIONAL_SECTION_MODULES) {
    const url = new URL(spec, import.meta.url);
    if (!existsSync(fileURLToPath(url))) {
      notes.push(`${spec}: not present, skipped`);
      continue;
    }
    try {
      const mod = (await import(url.href)) as { section?: BenchSection; sections?: BenchSection[] };
      if (mod.section) loaded.push(mod.section);
      if (mod.sections) loaded.push(...mod.sections);
      if (!mod.section && !mod.sections) notes.push(`${spec}: exports no section/sections`);
    } catch (e) {
      notes.push(`${spec}: failed to load: ${(e as Error).message}`);
    }
  }
  return { loaded, notes };
}

function fmt(v: number, unit: string): string {
  if (!Number.isFinite(v)) return 'n/a';
  if (unit.startsWith('rec/s') || unit.startsWith('msg/s') || unit.includes('/s')) {
    if (v >= 1e6) return `${(v / 1e6).toFixed(2)}M ${unit}`;
    if (v >= 1e3) return `${(v / 1e3).toFixed(1)}k ${unit}`;
  }
  return `${v < 10 ? v.toFixed(2) : v < 1000 ? v.toFixed(1) : v.toFixed(0)} ${unit}`;
}

function printTable(rows: Array<BenchRow & { section: string }>): void {
  const cols = ['section', 'metric', 'measured', 'target / reference', 'ok', 'note'];
  const cells = rows.map((r) => [
    r.section,
    r.metric,
    fmt(r.value, r.unit),
    r.target ?? '',
    r.pass === undefined ? '' : r.pass ? 'yes' : 'NO',
    r.note ?? '',
  ]);
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
  const line = (row: string[]) => row.map((c, i) => c.padEnd(widths[i])).join(' | ').trimEnd();
  console.log(line(cols));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const row of cells) console.log(line(row));
}

async function main(): Promise<void> {
  const filter = process.argv.slice(2);
  const { loaded, notes } = await loadOptional();
  const all = [...sections, ...loaded].filter((s) => filter.length === 0 || filter.includes(s.name));
  const rows: Array<BenchRow & { section: string }> = [];
  const t0 = performance.now();
  console.log(`node ${process.version}; sections: ${all.map((s) => s.name).join(', ')} (~${all.reduce((a, s) => a + s.budgetSeconds, 0)} s)`);
  for (const s of all) {
    const ts = performance.now();
    process.stdout.write(`running ${s.name} ... `);
    try {
      for (const r of await s.run()) rows.push({ ...r, section: s.name });
    } catch (e) {
      rows.push({ section: s.name, metric: '(section failed)', value: NaN, unit: '', note: (e as Error).stack?.split('\n')[0] ?? String(e) });
    }
    console.log(`${((performance.now() - ts) / 1000).toFixed(1)} s`);
  }
  console.log(`\nmicro-benchmarks, ${((performance.now() - t0) / 1000).toFixed(0)} s total`);
  printTable(rows);
  for (const n of notes) console.log(`note: ${n}`);
}

await main();
