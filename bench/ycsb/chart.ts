/**
 * One self-contained SVG of YCSB results: the DynamoDB paper's Figures 5 and 6 (read and
 * write latency, p50 and p99, per throughput level) as grouped bars, then where the time
 * goes (the mean of each stage per level, stacked; where results have stages), then latency
 * over time per (run, workload, engine). No external fonts or CSS; d3-scale does the scale math.
 *
 * The markup keeps to what ImageMagick's own SVG renderer draws right as well as browsers:
 * no <pattern> (hatching is drawn as lines), no rotated text, no paint-order, no tspans.
 */
import { statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { scaleBand, scaleLinear, scaleLog } from 'd3-scale';
import { readResults } from './result-files.js';
import { MAX_ERROR_RATE, MIN_ACHIEVED_SHARE, OPERATION_NAMES, type LevelResult, type OperationName, type RunResult } from './results.js';
import {
  enginesOf,
  formatFraction,
  formatLatency,
  formatRateShort,
  intendedOf,
  levelsByFraction,
  readOperationOf,
  workloadLabel,
  workloadsOf,
  writeOperationOf,
} from './report.js';
import { STAGE_ORDER } from './stages.js';

export interface ChartRun {
  label: string;
  results: RunResult[];
}

// ---------------------------------------------------------------------------------------
// Look.

/** The document is at least this wide; wider when bar value labels need the room. */
const MIN_WIDTH = 1200;
export const LEFT = 78;
export const RIGHT = 64;
export const FONT = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";
export const TEXT = '#222222';
export const MUTED = '#666666';
export const GRID = '#e4e4e4';
export const AXIS = '#888888';
export const RED = '#c62828';
export const THROUGHPUT = '#333333';
export const TARGET = '#b0b0b0';
/** Bars per level group above which the bar panels are split per run (then per engine). */
const MAX_BARS_PER_GROUP = 12;
/** A bar panel that would need a wider document than this to fit its value labels is split per workload. */
const MAX_WIDTH = 1500;
const VALUE_FONT = 10;
/** Bars whose values span more than this factor get a log axis, so the small ones stay visible. */
const LOG_AXIS_SPAN = 50;

/** Colour per workload, in order of appearance: blue, orange, green, purple, brown, pink, … */
const WORKLOAD_COLOURS = ['#1f6fb4', '#e8710a', '#2a9d3a', '#8e44ad', '#8c564b', '#d6447f', '#17a2b8', '#9a9a1c'];
/** Colour per operation in the timelines. */
const OPERATION_COLOURS: Record<OperationName, string> = {
  READ: '#1f6fb4',
  UPDATE: '#d62728',
  INSERT: '#2a9d3a',
  SCAN: '#8e44ad',
  'READ-MODIFY-WRITE': '#8c564b',
};
/** Fill style per source (run/engine): solid, diagonal hatch, horizontal stripes, outline. */
type PatternKind = 'solid' | 'hatch' | 'stripes' | 'outline';
const PATTERNS: PatternKind[] = ['solid', 'hatch', 'stripes', 'outline'];

// ---------------------------------------------------------------------------------------
// SVG primitives (the experiments' charts, bench/experiments/chart.ts, draw with them too).

/** Escapes text for SVG content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Rough width of text in a sans-serif font, sized for DejaVu Sans (the widest common one). */
export function textWidth(text: string, size: number): number {
  let em = 0;
  for (const c of text) em += /[0-9]/.test(c) ? 0.64 : /[.,:;!|' ]/.test(c) ? 0.33 : /[A-Z%]/.test(c) ? 0.72 : 0.6;
  return em * size;
}

/** Mixes a #rrggbb colour with white: amount 0 = the colour, 1 = white. */
export function tint(colour: string, amount: number): string {
  const n = parseInt(colour.slice(1), 16);
  const mix = (c: number) => Math.round(c + (255 - c) * amount);
  const [r, g, b] = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map(mix);
  return `#${((1 << 24) | (r << 16) | (g << 8) | b).toString(16).slice(1)}`;
}

export const num = (x: number) => Number(x.toFixed(2));

export type Attrs = Record<string, string | number>;

export function attrs(a: Attrs): string {
  return Object.entries(a)
    .map(([k, v]) => ` ${k}="${escapeXml(String(v))}"`)
    .join('');
}

export function text(x: number, y: number, content: string, a: Attrs = {}): string {
  return `<text x="${num(x)}" y="${num(y)}"${attrs(a)}>${escapeXml(content)}</text>`;
}

export function line(x1: number, y1: number, x2: number, y2: number, stroke: string, a: Attrs = {}): string {
  return `<line x1="${num(x1)}" y1="${num(y1)}" x2="${num(x2)}" y2="${num(y2)}" stroke="${stroke}"${attrs(a)}/>`;
}

export function rect(x: number, y: number, w: number, h: number, a: Attrs, inner = ''): string {
  return `<rect x="${num(x)}" y="${num(y)}" width="${num(w)}" height="${num(h)}"${attrs(a)}>${inner}</rect>`;
}

/** Joins pieces with `sep` into lines no wider than `width` px at font `size`. */
export function wrapPieces(pieces: string[], width: number, size: number, sep: string): string[] {
  const lines: string[] = [];
  let current = '';
  for (const piece of pieces) {
    const candidate = current === '' ? piece : `${current}${sep}${piece}`;
    if (current !== '' && textWidth(candidate, size) > width) {
      lines.push(current);
      current = piece;
    } else {
      current = candidate;
    }
  }
  if (current !== '') lines.push(current);
  return lines;
}

/** An SVG path through points, broken where a value is missing. */
export function linePath(points: { x: number; y: number | undefined }[]): string {
  let d = '';
  let pen = false;
  for (const p of points) {
    if (p.y === undefined || !Number.isFinite(p.y)) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${num(p.x)},${num(p.y)}`;
    pen = true;
  }
  return d;
}

// ---------------------------------------------------------------------------------------
// Units and ticks.

type Unit = { name: 'µs' | 'ms'; divisor: number };

/** ms when the largest value is 2 ms or more, else µs. */
function unitFor(maxUs: number): Unit {
  return maxUs >= 2000 ? { name: 'ms', divisor: 1000 } : { name: 'µs', divisor: 1 };
}

/** A value in a unit with about three significant digits: "310", "47", "0.047", "1.24", "12.4". */
function formatInUnit(us: number, unit: Unit): string {
  const v = us / unit.divisor;
  if (v >= 100) return String(Math.round(v));
  if (unit.name === 'µs' && v >= 10) return String(Math.round(v));
  if (v >= 10) return v.toFixed(1);
  if (v >= 1) return v.toFixed(2);
  return String(Number(v.toPrecision(2)));
}

/** A latency on a log axis with its unit: "200 µs", "1 ms", "1.5 s". */
export function formatLatencyTick(us: number): string {
  if (us < 1000) return `${Number(us.toPrecision(3))} µs`;
  if (us < 1_000_000) return `${Number((us / 1000).toPrecision(3))} ms`;
  return `${Number((us / 1e6).toPrecision(3))} s`;
}

/** Ticks of a log scale thinned to 1-2-5 (or powers of ten when that is still many). */
export function logTicks(domain: [number, number]): number[] {
  const all = scaleLog().domain(domain).ticks(10);
  const lead = (v: number) => Math.round(v / 10 ** Math.floor(Math.log10(v) + 1e-9));
  let ticks = all.filter((v) => [1, 2, 5].includes(lead(v)));
  if (ticks.length > 9) ticks = all.filter((v) => lead(v) === 1);
  return ticks.length < 2 ? all : ticks;
}

// ---------------------------------------------------------------------------------------
// Series: what a bar or a legend entry stands for.

interface Source {
  run: ChartRun;
  engine: string;
  /** '' when there is one run and one engine. */
  label: string;
  pattern: PatternKind;
}

interface Series {
  source: Source;
  workload: string;
  result: RunResult;
  colour: string;
}

/** One source per (run, engine), in order; workloads coloured in order of appearance. */
function seriesOf(runs: ChartRun[]): Series[] {
  const all = runs.flatMap((r) => r.results);
  const workloads = workloadsOf(all);
  const manyEngines = enginesOf(all).length > 1;
  const series: Series[] = [];
  let sourceIndex = 0;
  for (const run of runs) {
    for (const engine of enginesOf(run.results)) {
      const label = [runs.length > 1 ? run.label : '', manyEngines ? engine : ''].filter((s) => s !== '').join(' · ');
      const source: Source = { run, engine, label, pattern: PATTERNS[sourceIndex++ % PATTERNS.length] };
      for (const workload of workloads) {
        const result = run.results.find((r) => r.engine === engine && r.workload === workload);
        const colour = WORKLOAD_COLOURS[workloads.indexOf(workload) % WORKLOAD_COLOURS.length];
        if (result) series.push({ source, workload, result, colour });
      }
    }
  }
  return series;
}

function seriesName(s: Series): string {
  return `${s.source.label ? `${s.source.label} · ` : ''}${workloadLabel(s.workload)}`;
}

// ---------------------------------------------------------------------------------------
// Bar shapes: hatching as plain geometry (ImageMagick's renderer draws <pattern> black).

/** Diagonal lines (45°, rising to the right) clipped to a rectangle. */
function hatchLines(x: number, y: number, w: number, h: number, colour: string, spacing = 5): string {
  const parts: string[] = [];
  // The lines u − v = d, u measured from the left edge and v up from the bottom edge.
  for (let d = -h + spacing / 2; d < w; d += spacing) {
    const v0 = Math.max(0, -d);
    const v1 = Math.min(h, w - d);
    if (v1 - v0 >= 0.5) parts.push(line(x + v0 + d, y + h - v0, x + v1 + d, y + h - v1, colour, { 'stroke-width': 1.6 }));
  }
  return parts.join('');
}

/** Horizontal stripes inside a rectangle. */
function stripes(x: number, y: number, w: number, h: number, colour: string, spacing = 4): string {
  const parts: string[] = [];
  for (let sy = y + h - 2; sy >= y; sy -= spacing) parts.push(rect(x, sy, w, Math.min(2, y + h - sy), { fill: colour }));
  return parts.join('');
}

/** A bar or legend swatch in its source's style; p50 lighter than p99. */
function barShape(x: number, y: number, w: number, h: number, colour: string, percentile: 'p50' | 'p99', pattern: PatternKind, tip?: string): string {
  const main = percentile === 'p99' ? colour : tint(colour, 0.55);
  const title = tip ? `<title>${escapeXml(tip)}</title>` : '';
  switch (pattern) {
    case 'solid':
      return rect(x, y, w, h, { fill: main, stroke: 'none' }, title);
    case 'hatch':
      return rect(x, y, w, h, { fill: '#ffffff', stroke: main, 'stroke-width': 1 }, title) + hatchLines(x, y, w, h, main);
    case 'stripes':
      return rect(x, y, w, h, { fill: '#ffffff', stroke: main, 'stroke-width': 1 }, title) + stripes(x, y, w, h, main);
    case 'outline':
      return rect(x + 0.5, y + 0.5, Math.max(0, w - 1), Math.max(0, h - 1), { fill: tint(main, 0.85), stroke: main, 'stroke-width': 2 }, title);
  }
}

// ---------------------------------------------------------------------------------------
// Legend.

export interface LegendItem {
  label: string;
  swatch: (x: number, y: number) => string;
}

export interface LegendRow {
  /** Shown in bold before the row's items (the run or engine). */
  title?: string;
  items: LegendItem[];
}

/** Lays legend rows out within `width`, wrapping long rows; returns the markup and its height. */
export function legend(rows: LegendRow[], x: number, y: number, width: number, size = 12): { svg: string; height: number } {
  const rowHeight = size + 9;
  const titleWidth = Math.max(0, ...rows.map((r) => (r.title ? textWidth(r.title, size) + 14 : 0)));
  const parts: string[] = [];
  let cy = y;
  for (const row of rows) {
    const start = x + titleWidth;
    if (row.title) parts.push(text(x, cy + size, row.title, { 'font-size': size, 'font-weight': 'bold', fill: TEXT }));
    let cx = start;
    for (const item of row.items) {
      const w = 24 + textWidth(item.label, size) + 16;
      if (cx > start && cx + w > x + width) {
        cx = start;
        cy += rowHeight;
      }
      parts.push(item.swatch(cx, cy + 1), text(cx + 24, cy + size, item.label, { 'font-size': size, fill: TEXT }));
      cx += w;
    }
    cy += rowHeight;
  }
  return { svg: parts.join(''), height: cy - y };
}

function barSwatch(colour: string, percentile: 'p50' | 'p99', pattern: PatternKind): (x: number, y: number) => string {
  return (x, y) => barShape(x, y, 18, 14, colour, percentile, pattern);
}

export function lineSwatch(colour: string, width: number, dash?: string): (x: number, y: number) => string {
  return (x, y) => line(x, y + 7, x + 20, y + 7, colour, dash ? { 'stroke-width': width, 'stroke-dasharray': dash } : { 'stroke-width': width });
}

// ---------------------------------------------------------------------------------------
// Bar panels (Figures 5 and 6).

type Kind = 'read' | 'write';

interface Bar {
  series: Series;
  percentile: 'p50' | 'p99';
  value: number | undefined;
}

function operationFor(s: Series, kind: Kind): OperationName | undefined {
  return kind === 'read' ? readOperationOf(s.result) : writeOperationOf(s.result);
}

function levelAt(result: RunResult, fraction: number): LevelResult | undefined {
  return result.levels.find((l) => Math.abs(l.fraction - fraction) < 1e-9);
}

/** Everything a bar panel needs before it is placed: its bars, axis kind, and the width it needs. */
interface BarModel {
  kind: Kind;
  title: string;
  series: Series[];
  fractions: number[];
  groups: Bar[][];
  /** Bar-slot offsets within a group, in slot units, and the group's width in slot units. */
  slotStarts: number[];
  slotUnits: number;
  unit: Unit;
  log: boolean;
  valueLabel: (us: number) => string;
  /** Width of one bar slot that fits every value label. */
  minSlot: number;
}

const PADDING_INNER = 0.14;
const PADDING_OUTER = 0.06;
const MAX_SLOT = 56;

function barModel(kind: Kind, all: Series[], title: string): BarModel | undefined {
  const series = all.filter((s) => operationFor(s, kind) !== undefined);
  if (series.length === 0) return undefined;
  const fractions = [...new Set(series.flatMap((s) => s.result.levels.map((l) => l.fraction)))].sort((a, b) => a - b);
  const groups = fractions.map((fraction) =>
    series.flatMap((s): Bar[] => {
      const level = levelAt(s.result, fraction);
      const stats = level ? intendedOf(level, operationFor(s, kind)) : undefined;
      return [{ series: s, percentile: 'p50', value: stats?.p50 }, { series: s, percentile: 'p99', value: stats?.p99 }];
    }),
  );
  // p50 and p99 of a series side by side; a gap between series, a wider one between sources.
  let units = 0;
  const slotStarts: number[] = [];
  series.forEach((s, i) => {
    if (i > 0) units += s.source === series[i - 1].source ? 0.35 : 0.9;
    slotStarts.push(units, units + 1);
    units += 2;
  });
  const values = groups.flat().flatMap((b) => (b.value !== undefined && b.value > 0 ? [b.value] : []));
  const max = Math.max(1, ...values);
  const unit = unitFor(max);
  const log = values.length > 0 && max / Math.min(...values) > LOG_AXIS_SPAN;
  const valueLabel = (us: number) => formatInUnit(us, unit);
  const minSlot = Math.max(12, ...values.map((v) => textWidth(valueLabel(v), VALUE_FONT) + 3));
  return { kind, title, series, fractions, groups, slotStarts, slotUnits: units, unit, log, valueLabel, minSlot };
}

/** The document width a bar panel needs so that no value label is wider than its bar slot. */
function barModelWidth(m: BarModel): number {
  const band = m.slotUnits * m.minSlot;
  const n = m.fractions.length;
  const range = (band * (n - PADDING_INNER + 2 * PADDING_OUTER)) / (1 - PADDING_INNER);
  return Math.ceil(LEFT + 24 + range);
}

interface BarAxis {
  y: (us: number) => number;
  ticks: number[];
  tickLabel: (us: number) => string;
  title: string;
}

/** Linear from 0, or log; the top leaves room above every bar for its value label. */
function barAxis(m: BarModel, plotTop: number, plotBottom: number): BarAxis {
  const height = plotBottom - plotTop;
  const room = (VALUE_FONT + 5) / height;
  const values = m.groups.flat().flatMap((b) => (b.value !== undefined && b.value > 0 ? [b.value] : []));
  const max = Math.max(1, ...values);
  const inUnit = (us: number) => String(Number((us / m.unit.divisor).toPrecision(3)));
  if (m.log) {
    const lo = Math.min(...values) / 2;
    // (log D − log max) / (log D − log lo) ≥ room  ⇔  log D ≥ (log max − room·log lo) / (1 − room).
    const top = Math.exp((Math.log(max) - room * Math.log(lo)) / (1 - room));
    const scale = scaleLog().domain([lo, top]).range([plotBottom, plotTop]).nice();
    const domain = scale.domain() as [number, number];
    return { y: (us) => scale(Math.max(us, domain[0])), ticks: logTicks(domain), tickLabel: inUnit, title: `latency (${m.unit.name}, log scale)` };
  }
  const scale = scaleLinear().domain([0, max / (1 - room) / m.unit.divisor]).range([plotBottom, plotTop]).nice(6);
  const format = scale.tickFormat(6);
  return {
    y: (us) => scale(us / m.unit.divisor),
    ticks: scale.ticks(6).map((t) => t * m.unit.divisor),
    tickLabel: (us) => format(us / m.unit.divisor),
    title: `latency (${m.unit.name})`,
  };
}

interface LabelLine {
  text: string;
  colour: string;
  bold?: boolean;
}

const within3pct = (xs: number[]) => xs.length > 0 && Math.max(...xs) <= Math.min(...xs) * 1.03;

/** The x-axis label of a level group: the fraction and achieved ops/s — one figure when every
 *  series achieved about the same, else per workload (per source when the sources differ). */
function groupLabel(series: Series[], fraction: number, width: number): LabelLine[] {
  const rated = series
    .map((s) => ({ s, level: levelAt(s.result, fraction) }))
    .filter((x): x is { s: Series; level: LevelResult } => x.level !== undefined);
  if (rated.length === 0) return [{ text: formatFraction(fraction), colour: TEXT, bold: true }];
  const rate = (x: { level: LevelResult }) => `${formatRateShort(x.level.achievedOpsPerSec)}${x.level.sustained ? '' : '!'}`;
  const lines: LabelLine[] = [];
  if (within3pct(rated.map((x) => x.level.achievedOpsPerSec))) {
    lines.push({ text: `${formatFraction(fraction)} · ${rate(rated[0])} ops/s`, colour: TEXT, bold: true });
  } else {
    lines.push({ text: `${formatFraction(fraction)} of top rate`, colour: TEXT, bold: true });
    const workloads = [...new Set(rated.map((x) => x.s.workload))];
    const sources = [...new Set(rated.map((x) => x.s.source))];
    const sameAcrossSources = workloads.every((w) => within3pct(rated.filter((x) => x.s.workload === w).map((x) => x.level.achievedOpsPerSec)));
    const piecesOf = (xs: typeof rated) =>
      workloads.flatMap((w) => {
        const x = xs.find((y) => y.s.workload === w);
        return x ? [`${workloadLabel(w)} ${rate(x)}`] : [];
      });
    const groups = sources.length === 1 || sameAcrossSources ? [{ prefix: '', xs: rated }] : sources.map((src) => ({ prefix: `${src.label}: `, xs: rated.filter((x) => x.s.source === src) }));
    groups.forEach((g, i) => {
      const pieces = piecesOf(g.xs);
      pieces[0] = `${g.prefix}${pieces[0]}`;
      if (i === groups.length - 1) pieces[pieces.length - 1] += ' ops/s';
      for (const l of wrapPieces(pieces, width, 11, ' · ')) lines.push({ text: l, colour: MUTED });
    });
  }
  const short = rated.filter((x) => !x.level.sustained);
  if (short.length > 0) lines.push({ text: short.length === rated.length ? 'NOT SUSTAINED' : '! = not sustained', colour: RED });
  return lines;
}

/**
 * One bar panel: a title, a y axis with ticks and gridlines, and per level a group of bars with
 * value labels; the group labels below. Returns markup and height.
 */
function barPanel(m: BarModel, top: number, width: number): { svg: string; height: number } {
  const right = 24;
  const plotTop = top + 44;
  const plotBottom = plotTop + 250;
  const parts: string[] = [text(18, top + 16, m.title, { 'font-size': 15, 'font-weight': 'bold', fill: TEXT })];
  const axis = barAxis(m, plotTop, plotBottom);
  parts.push(text(18, plotTop - 12, axis.title, { 'font-size': 12, fill: MUTED }));
  for (const t of axis.ticks) {
    parts.push(line(LEFT, axis.y(t), width - right, axis.y(t), GRID));
    parts.push(text(LEFT - 8, axis.y(t) + 4, axis.tickLabel(t), { 'font-size': 11, fill: MUTED, 'text-anchor': 'end' }));
  }
  parts.push(line(LEFT, plotTop, LEFT, plotBottom, AXIS), line(LEFT, plotBottom, width - right, plotBottom, AXIS));

  const x0 = scaleBand<number>().domain(m.fractions).range([LEFT, width - right]).paddingInner(PADDING_INNER).paddingOuter(PADDING_OUTER);
  const slot = Math.min(MAX_SLOT, x0.bandwidth() / m.slotUnits);
  const pad = (x0.bandwidth() - slot * m.slotUnits) / 2;
  let bottom = plotBottom;
  m.fractions.forEach((fraction, g) => {
    const gx = x0(fraction)!;
    m.groups[g].forEach((bar, i) => {
      if (bar.value === undefined) return;
      const bx = gx + pad + m.slotStarts[i] * slot + 0.5;
      const bw = Math.max(1, slot - 1.5);
      const by = Math.min(axis.y(bar.value), plotBottom - 1);
      const tip = `${seriesName(bar.series)} ${bar.percentile} at ${formatFraction(fraction)}: ${formatLatency(bar.value)}`;
      parts.push(barShape(bx, by, bw, plotBottom - by, bar.series.colour, bar.percentile, bar.series.source.pattern, tip));
      parts.push(text(bx + bw / 2, by - 4, m.valueLabel(bar.value), { 'font-size': VALUE_FONT, fill: TEXT, 'text-anchor': 'middle' }));
    });
    groupLabel(m.series, fraction, x0.bandwidth()).forEach((l, k) => {
      const ly = plotBottom + 18 + k * 15;
      const a: Attrs = { 'font-size': k === 0 ? 12 : 11, fill: l.colour, 'text-anchor': 'middle' };
      if (l.bold) a['font-weight'] = 'bold';
      parts.push(text(gx + x0.bandwidth() / 2, ly, l.text, a));
      bottom = Math.max(bottom, ly + 4);
    });
  });
  return { svg: parts.join(''), height: bottom - top + 14 };
}

/** The legend of the bar panels: per source (run/engine) a row of (workload, percentile) entries. */
function barLegend(series: Series[], top: number, width: number): { svg: string; height: number } {
  const sources = [...new Set(series.map((s) => s.source))];
  const rows: LegendRow[] = sources.map((source) => ({
    title: source.label || undefined,
    items: series
      .filter((s) => s.source === source)
      .flatMap((s) => (['p50', 'p99'] as const).map((p) => ({ label: `${workloadLabel(s.workload)} ${p}`, swatch: barSwatch(s.colour, p, source.pattern) }))),
  }));
  return legend(rows, LEFT, top, width - LEFT - 24);
}

/** Splits the series so that no level group holds more than MAX_BARS_PER_GROUP bars: per run, then per engine. */
function splitForReadability(series: Series[], runs: ChartRun[]): { label: string; series: Series[] }[] {
  if (series.length * 2 <= MAX_BARS_PER_GROUP) return [{ label: '', series }];
  const parts: { label: string; series: Series[] }[] = [];
  for (const run of runs) {
    const ofRun = series.filter((s) => s.source.run === run);
    const runLabel = runs.length > 1 ? `run ${run.label}` : '';
    if (ofRun.length * 2 <= MAX_BARS_PER_GROUP) {
      if (ofRun.length > 0) parts.push({ label: runLabel, series: ofRun });
      continue;
    }
    for (const engine of enginesOf(run.results)) {
      const ofEngine = ofRun.filter((s) => s.source.engine === engine);
      if (ofEngine.length > 0) parts.push({ label: [runLabel, engine].filter(Boolean).join(' · '), series: ofEngine });
    }
  }
  return parts;
}

function panelTitle(kind: Kind, series: Series[], suffix: string): string {
  const ops = [...new Set(series.map((s) => operationFor(s, kind)).filter((op) => op !== undefined))];
  const base = kind === 'read' ? 'Read latency (cf. paper Fig. 5)' : 'Write latency (cf. paper Fig. 6)';
  return `${base}${ops.length ? ` — ${ops.join(', ')}` : ''}, intended-start p50 and p99${suffix ? ` — ${suffix}` : ''}`;
}

// ---------------------------------------------------------------------------------------
// Stage panels: where the mean operation's time went at each level (stages.ts).

/** Colour per stage, the same in every panel: the harness's own stages in greys and browns,
 *  the router's waiting in pinks and oranges, the node's work in purples, blues and greens. */
const STAGE_COLOURS: Record<(typeof STAGE_ORDER)[number], string> = {
  pacing: '#c7c7c7',
  client: '#a6761d',
  retry: '#e377c2',
  queue: '#ff7f0e',
  transit: '#fdc086',
  leader: '#9467bd',
  replicate: '#1f6fb4',
  apply: '#2a9d3a',
  read: '#17a2b8',
  reply: '#a6d96a',
  return: '#9ecae1',
  residue: '#707070',
  engine: '#4a90c8',
};
/** The leader's own WAL sync, drawn as a thin bar along the bottom of `replicate` (it overlaps it). */
const WAL_SYNC = '#111111';
const STAGE_BAR_HEIGHT = 18;
const STAGE_ROW = 26;

/** Dark text on light colours, white on dark ones. */
function textOn(colour: string): string {
  const n = parseInt(colour.slice(1), 16);
  const luminance = 0.299 * ((n >> 16) & 255) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255);
  return luminance > 150 ? TEXT : '#ffffff';
}

/** The result's read and write operations that have stages at some level. */
function stagedOperations(result: RunResult): OperationName[] {
  const ops = [readOperationOf(result), writeOperationOf(result)].filter((op): op is OperationName => op !== undefined);
  return ops.filter((op) => result.levels.some((l) => l.stages?.[op]?.total !== undefined));
}

function stageLegend(result: RunResult, ops: OperationName[], top: number, width: number): { svg: string; height: number } {
  const present = (name: string) => result.levels.some((l) => ops.some((op) => l.stages?.[op]?.[name] !== undefined));
  const items: LegendItem[] = STAGE_ORDER.filter(present).map((name) => ({
    label: name,
    swatch: (x, y) => rect(x, y, 18, 14, { fill: STAGE_COLOURS[name], stroke: 'none' }),
  }));
  if (present('walSync')) {
    items.push({ label: 'walSync (within replicate)', swatch: (x, y) => rect(x, y, 18, 14, { fill: STAGE_COLOURS.replicate }) + rect(x, y + 11, 12, 3, { fill: WAL_SYNC }) });
  }
  return legend([{ items }], LEFT, top, width - LEFT - RIGHT, 11);
}

/** One operation's levels as horizontal stacked bars of stage means on a linear axis. */
function stageBlock(result: RunResult, op: OperationName, top: number, width: number): { svg: string; height: number } {
  const levels = levelsByFraction(result).filter((l) => l.stages?.[op]?.total !== undefined);
  const parts: string[] = [text(18, top + 14, op, { 'font-size': 13, 'font-weight': 'bold', fill: TEXT })];
  const labels = levels.map((l) => `${formatFraction(l.fraction)} · ${formatRateShort(l.achievedOpsPerSec)}${l.sustained ? '' : '!'} ops/s`);
  const x0 = Math.max(LEFT, 18 + Math.max(...labels.map((l) => textWidth(l, 11))) + 10);
  const sums = levels.map((l) => STAGE_ORDER.reduce((n, name) => n + (l.stages![op]![name]?.mean ?? 0), 0));
  const maxUs = Math.max(1, ...sums, ...levels.map((l) => l.stages![op]!.total.mean));
  const unit = unitFor(maxUs);
  const x = scaleLinear().domain([0, maxUs / unit.divisor]).range([x0, width - RIGHT - 80]).nice(8);
  const at = (us: number) => x(us / unit.divisor);
  const rowsTop = top + 24;
  const rowsBottom = rowsTop + levels.length * STAGE_ROW;
  for (const t of x.ticks(8)) {
    parts.push(line(x(t), rowsTop - 2, x(t), rowsBottom, GRID));
    parts.push(text(x(t), rowsBottom + 14, x.tickFormat(8)(t), { 'font-size': 10, fill: MUTED, 'text-anchor': 'middle' }));
  }
  parts.push(text(x0 - 8, rowsBottom + 14, `mean, ${unit.name}`, { 'font-size': 10, fill: MUTED, 'text-anchor': 'end' }));
  parts.push(line(x0, rowsTop - 2, x0, rowsBottom, AXIS));
  levels.forEach((level, i) => {
    const stages = level.stages![op]!;
    const y = rowsTop + i * STAGE_ROW + (STAGE_ROW - STAGE_BAR_HEIGHT) / 2;
    parts.push(text(x0 - 8, y + 13, labels[i], { 'font-size': 11, fill: level.sustained ? TEXT : RED, 'text-anchor': 'end' }));
    let sum = 0;
    for (const name of STAGE_ORDER) {
      const s = stages[name];
      if (s === undefined || s.mean <= 0) continue;
      const sx = at(sum);
      const w = at(sum + s.mean) - sx;
      const tip = `${op} ${name} at ${formatFraction(level.fraction)}: mean ${formatLatency(s.mean)} (p50 ${formatLatency(s.p50)}, p99 ${formatLatency(s.p99)})`;
      parts.push(rect(sx, y, w, STAGE_BAR_HEIGHT, { fill: STAGE_COLOURS[name], stroke: '#ffffff', 'stroke-width': 0.5, 'data-stage': name }, `<title>${escapeXml(tip)}</title>`));
      const label = formatInUnit(s.mean, unit);
      if (textWidth(label, VALUE_FONT) + 4 < w) parts.push(text(sx + w / 2, y + 13, label, { 'font-size': VALUE_FONT, fill: textOn(STAGE_COLOURS[name]), 'text-anchor': 'middle' }));
      if (name === 'replicate' && (stages.walSync?.mean ?? 0) > 0) {
        const ws = stages.walSync!;
        const wTip = `${op} walSync at ${formatFraction(level.fraction)}: mean ${formatLatency(ws.mean)} (p50 ${formatLatency(ws.p50)}, p99 ${formatLatency(ws.p99)}), within replicate`;
        parts.push(rect(sx, y + STAGE_BAR_HEIGHT - 3, at(sum + ws.mean) - sx, 3, { fill: WAL_SYNC, 'data-stage': 'walSync' }, `<title>${escapeXml(wTip)}</title>`));
      }
      sum += s.mean;
    }
    parts.push(text(at(sum) + 6, y + 13, `${formatLatency(stages.total.mean)} mean`, { 'font-size': 11, fill: TEXT }));
  });
  return { svg: parts.join(''), height: rowsBottom + 22 - top };
}

/** Where the time goes in one result: its stage legend, then a stacked-bar block per operation. */
function stagePanel(run: ChartRun, result: RunResult, showRun: boolean, top: number, width: number): { svg: string; height: number } {
  const ops = stagedOperations(result);
  const where = [`workload ${workloadLabel(result.workload)}`, result.engine, showRun ? `run ${run.label}` : ''].filter(Boolean).join(' · ');
  const parts: string[] = [text(18, top + 16, `Where the time goes — ${where}`, { 'font-size': 15, 'font-weight': 'bold', fill: TEXT })];
  parts.push(
    text(18, top + 33, "mean time per stage from the intended start at each level; the means add up to the mean latency (the report's stage table has p50 and p99)", {
      'font-size': 11,
      fill: MUTED,
    }),
  );
  const leg = stageLegend(result, ops, top + 42, width);
  parts.push(leg.svg);
  let y = top + 42 + leg.height + 4;
  for (const op of ops) {
    const block = stageBlock(result, op, y, width);
    parts.push(block.svg);
    y += block.height;
  }
  return { svg: parts.join(''), height: y - top };
}

// ---------------------------------------------------------------------------------------
// Latency-over-time panels.

interface TimelineSegment {
  level: LevelResult;
  start: number;
  seconds: number;
}

/** The levels laid end to end on one time axis, in the order they ran. */
function segmentsOf(result: RunResult): TimelineSegment[] {
  let start = 0;
  return result.levels.map((level) => {
    const last = level.timeline.reduce((m, p) => Math.max(m, p.second + 1), 0);
    const seconds = Math.max(last, Math.round(level.durationMs / 1000), 1);
    const seg = { level, start, seconds };
    start += seconds;
    return seg;
  });
}

function timelineLegend(ops: OperationName[], hasErrors: boolean, top: number, width: number): { svg: string; height: number } {
  const items: LegendItem[] = [];
  for (const op of ops) {
    items.push({ label: `${op} p99`, swatch: lineSwatch(OPERATION_COLOURS[op], 2) });
    items.push({ label: `${op} p50`, swatch: lineSwatch(tint(OPERATION_COLOURS[op], 0.45), 1.5, '5 3') });
  }
  items.push({ label: 'successful ops/s', swatch: lineSwatch(THROUGHPUT, 1.5) }, { label: 'target ops/s', swatch: lineSwatch(TARGET, 1.5, '3 2') });
  if (hasErrors) items.push({ label: 'errors/s', swatch: lineSwatch(RED, 1.5) });
  return legend([{ items }], LEFT, top, width - LEFT - RIGHT, 11);
}

/** Latency per second across the levels of one result (log y), with a throughput strip below. */
function timelinePanel(run: ChartRun, result: RunResult, showRun: boolean, top: number, width: number): { svg: string; height: number } {
  const parts: string[] = [];
  const where = [`workload ${workloadLabel(result.workload)}`, result.engine, showRun ? `run ${run.label}` : ''].filter(Boolean).join(' · ');
  parts.push(text(18, top + 16, `Latency over time — ${where}`, { 'font-size': 15, 'font-weight': 'bold', fill: TEXT }));
  parts.push(
    text(18, top + 33, 'intended-start latency per second (log scale), the levels in the order they ran; successful and target ops/s below', {
      'font-size': 11,
      fill: MUTED,
    }),
  );
  const ops = OPERATION_NAMES.filter((op) => result.levels.some((l) => l.timeline.some((p) => (p.ops[op]?.count ?? 0) > 0)));
  const hasErrors = result.levels.some((l) => l.timeline.some((p) => Object.values(p.ops).some((o) => (o?.errors ?? 0) > 0)));
  const leg = timelineLegend(ops, hasErrors, top + 42, width);
  parts.push(leg.svg);

  const plotTop = top + 42 + leg.height + 8;
  const plotBottom = plotTop + 210;
  const stripTop = plotBottom + 28;
  const stripBottom = stripTop + 56;
  const segments = segmentsOf(result);
  const total = segments.reduce((n, s) => n + s.seconds, 0) || 1;
  const x = scaleLinear().domain([0, total]).range([LEFT, width - RIGHT]);
  const positive = result.levels.flatMap((l) =>
    l.timeline.flatMap((p) => ops.flatMap((op) => [p.ops[op]?.p50 ?? 0, p.ops[op]?.p99 ?? 0]).filter((v) => v > 0)),
  );
  if (positive.length === 0) {
    parts.push(text(LEFT, plotTop + 20, 'no per-second latency recorded', { 'font-size': 13, fill: MUTED }));
    return { svg: parts.join(''), height: plotTop - top + 40 };
  }
  const y = scaleLog()
    .domain([Math.min(...positive) / 1.3, Math.max(...positive) * 1.6])
    .range([plotBottom, plotTop])
    .nice();

  // Axes and gridlines.
  for (const t of logTicks(y.domain() as [number, number])) {
    parts.push(line(LEFT, y(t), width - RIGHT, y(t), GRID));
    parts.push(text(LEFT - 8, y(t) + 4, formatLatencyTick(t), { 'font-size': 11, fill: MUTED, 'text-anchor': 'end' }));
  }
  for (const t of x.ticks(12)) {
    parts.push(line(x(t), plotBottom, x(t), plotBottom + 4, AXIS));
    parts.push(text(x(t), plotBottom + 15, `${t}`, { 'font-size': 10, fill: MUTED, 'text-anchor': 'middle' }));
  }
  parts.push(line(LEFT, plotTop, LEFT, plotBottom, AXIS), line(LEFT, plotBottom, width - RIGHT, plotBottom, AXIS));
  parts.push(text(width - RIGHT + 12, plotBottom + 15, 'seconds', { 'font-size': 10, fill: MUTED }));

  // Level separators, each level's label on a white ground at its top left.
  for (const seg of segments) {
    const sx = x(seg.start);
    if (seg.start > 0) parts.push(line(sx, plotTop, sx, stripBottom, '#9a9a9a', { 'stroke-dasharray': '4 3' }));
    const spanWidth = x(seg.start + seg.seconds) - sx;
    const full = `${formatFraction(seg.level.fraction)} · target ${formatRateShort(seg.level.targetOpsPerSec)}/s${seg.level.sustained ? '' : ' · NOT SUSTAINED'}`;
    const short = `${formatFraction(seg.level.fraction)}${seg.level.sustained ? '' : ' !'}`;
    const label = textWidth(full, 11) + 10 < spanWidth ? full : short;
    parts.push(rect(sx + 2, plotTop + 2, textWidth(label, 11) + 6, 15, { fill: '#ffffff', 'fill-opacity': 0.85, stroke: 'none' }));
    parts.push(text(sx + 5, plotTop + 13, label, { 'font-size': 11, fill: seg.level.sustained ? TEXT : RED }));
  }

  // Latency lines: one path per (operation, percentile), broken between levels.
  for (const op of ops) {
    for (const p of ['p50', 'p99'] as const) {
      const d = segments
        .map((seg) =>
          linePath(
            seg.level.timeline.map((pt) => {
              const v = pt.ops[op];
              return { x: x(seg.start + pt.second + 0.5), y: v && v.count > 0 && v[p] > 0 ? y(v[p]) : undefined };
            }),
          ),
        )
        .join('');
      const style: Attrs =
        p === 'p50'
          ? { stroke: tint(OPERATION_COLOURS[op], 0.45), 'stroke-width': 1.5, 'stroke-dasharray': '5 3' }
          : { stroke: OPERATION_COLOURS[op], 'stroke-width': 2 };
      parts.push(`<path d="${d}" fill="none"${attrs(style)} stroke-linejoin="round"/>`);
    }
  }

  parts.push(throughputStrip(segments, x, stripTop, stripBottom, width, hasErrors));
  return { svg: parts.join(''), height: stripBottom - top + 20 };
}

/** Successful ops per second, the target per level and errors per second, in a strip
 *  (each by its operations' intended second). */
function throughputStrip(
  segments: TimelineSegment[],
  x: (t: number) => number,
  stripTop: number,
  stripBottom: number,
  width: number,
  hasErrors: boolean,
): string {
  const parts: string[] = [];
  const perSecond = segments.map((seg) =>
    seg.level.timeline.map((pt) => {
      const stats = Object.values(pt.ops);
      const errors = stats.reduce((n, o) => n + (o?.errors ?? 0), 0);
      return { t: seg.start + pt.second, done: stats.reduce((n, o) => n + (o?.count ?? 0), 0) - errors, errors };
    }),
  );
  const maxRate = Math.max(1, ...perSecond.flat().map((p) => p.done), ...segments.map((s) => s.level.targetOpsPerSec));
  const ys = scaleLinear().domain([0, maxRate * 1.1]).range([stripBottom, stripTop]).nice(2);
  parts.push(rect(LEFT, stripTop, width - LEFT - RIGHT, stripBottom - stripTop, { fill: '#f7f7f7', stroke: 'none' }));
  for (const t of ys.ticks(2)) {
    parts.push(line(LEFT, ys(t), width - RIGHT, ys(t), GRID));
    parts.push(text(width - RIGHT + 6, ys(t) + 4, formatRateShort(t), { 'font-size': 10, fill: MUTED }));
  }
  const mid = (stripTop + stripBottom) / 2;
  parts.push(text(LEFT - 8, mid - 2, 'throughput', { 'font-size': 11, fill: MUTED, 'text-anchor': 'end' }));
  parts.push(text(LEFT - 8, mid + 11, 'ops/s', { 'font-size': 11, fill: MUTED, 'text-anchor': 'end' }));
  const target = segments.map((seg) => `M${num(x(seg.start))},${num(ys(seg.level.targetOpsPerSec))}H${num(x(seg.start + seg.seconds))}`).join('');
  parts.push(`<path d="${target}" fill="none" stroke="${TARGET}" stroke-width="1.5" stroke-dasharray="3 2"/>`);
  const series = (pick: (p: { done: number; errors: number }) => number) =>
    perSecond.map((pts) => linePath(pts.map((p) => ({ x: x(p.t + 0.5), y: ys(pick(p)) })))).join('');
  parts.push(`<path d="${series((p) => p.done)}" fill="none" stroke="${THROUGHPUT}" stroke-width="1.5"/>`);
  if (hasErrors) parts.push(`<path d="${series((p) => p.errors)}" fill="none" stroke="${RED}" stroke-width="1.5"/>`);
  parts.push(line(LEFT, stripBottom, width - RIGHT, stripBottom, AXIS));
  return parts.join('');
}

// ---------------------------------------------------------------------------------------
// The document.

function distinct(values: string[]): string[] {
  return [...new Set(values)];
}

function titleBlock(runs: ChartRun[], width: number): { svg: string; height: number } {
  const all = runs.flatMap((r) => r.results);
  const workloads = workloadsOf(all).map(workloadLabel);
  const engines = enginesOf(all);
  const durability = distinct(all.map((r) => r.environment.durability));
  const machines = distinct(all.map((r) => `${r.environment.cpuModel} (${r.environment.cores} cores)`));
  const title = `YCSB latency vs throughput — workload${workloads.length > 1 ? 's' : ''} ${workloads.join(', ')} on ${engines.join(', ')}`;
  const facts = [
    `engine${engines.length > 1 ? 's' : ''}: ${engines.join(', ')}`,
    `durability: ${durability.join(', ')}`,
    `machine: ${machines.join('; ')}`,
    runs.length > 1 ? `runs: ${runs.map((r) => r.label).join(', ')}` : `run: ${runs[0]?.label ?? ''}`,
  ];
  const parts = [text(18, 32, title, { 'font-size': 20, 'font-weight': 'bold', fill: TEXT })];
  const lines = wrapPieces(facts, width - 40, 13, '  ·  ');
  lines.forEach((l, i) => parts.push(text(18, 54 + i * 18, l, { 'font-size': 13, fill: MUTED })));
  const note =
    "Latency from each operation's intended start (coordinated omission corrected). Levels are fractions of the top rate " +
    '(1 : 2.5 : 5 : 10), latency and throughput of successful operations. "!" and red mark a level not sustained ' +
    `(successful operations more than ${Math.round((1 - MIN_ACHIEVED_SHARE) * 100)}% below its target, or more than ${MAX_ERROR_RATE * 100}% of operations failed).`;
  const noteLines = wrapPieces(note.split(' '), width - 40, 12, ' ');
  const noteTop = 54 + lines.length * 18 + 2;
  noteLines.forEach((l, i) => parts.push(text(18, noteTop + i * 16, l, { 'font-size': 12, fill: MUTED })));
  return { svg: parts.join(''), height: noteTop + noteLines.length * 16 };
}

/** One self-contained SVG document of one or more runs (see the module comment). */
export function renderLatencySvg(runs: ChartRun[]): string {
  const series = seriesOf(runs);
  const modelsOf = (part: { label: string; series: Series[] }) => ({
    part,
    panels: (['read', 'write'] as const).map((kind) => ({ kind, model: barModel(kind, part.series, panelTitle(kind, part.series, part.label)) })),
  });
  const models = (series.length > 0 ? splitForReadability(series, runs) : []).flatMap((part) => {
    const m = modelsOf(part);
    const tooWide = m.panels.some((p) => p.model && barModelWidth(p.model) > MAX_WIDTH);
    const workloads = [...new Set(part.series.map((s) => s.workload))];
    if (!tooWide || workloads.length < 2) return [m];
    return workloads.map((w) =>
      modelsOf({ label: [part.label, `workload ${workloadLabel(w)}`].filter(Boolean).join(' · '), series: part.series.filter((s) => s.workload === w) }),
    );
  });
  const width = Math.max(MIN_WIDTH, ...models.flatMap((m) => m.panels.map((p) => (p.model ? barModelWidth(p.model) : 0))));

  const body: string[] = [];
  const head = titleBlock(runs, width);
  body.push(head.svg);
  let y = head.height;
  if (series.length === 0) {
    body.push(text(18, y + 30, 'no results to chart', { 'font-size': 14, fill: MUTED }));
    y += 50;
  }
  for (const { part, panels } of models) {
    y += 14;
    const leg = barLegend(part.series, y, width);
    body.push(leg.svg);
    y += leg.height;
    for (const { kind, model } of panels) {
      if (model) {
        const panel = barPanel(model, y, width);
        body.push(panel.svg);
        y += panel.height;
      } else {
        body.push(text(18, y + 20, `${panelTitle(kind, part.series, part.label)}: no ${kind} operations`, { 'font-size': 13, fill: MUTED }));
        y += 34;
      }
    }
  }
  const results = runs.flatMap((run) => enginesOf(run.results).flatMap((engine) => run.results.filter((r) => r.engine === engine).map((result) => ({ run, result }))));
  const panels = [
    ...results.filter(({ result }) => stagedOperations(result).length > 0).map(({ run, result }) => (top: number) => stagePanel(run, result, runs.length > 1, top, width)),
    ...results.map(({ run, result }) => (top: number) => timelinePanel(run, result, runs.length > 1, top, width)),
  ];
  for (const draw of panels) {
    y += 10;
    body.push(line(18, y, width - 18, y, '#dddddd'));
    const panel = draw(y + 8);
    body.push(panel.svg);
    y += panel.height + 8;
  }
  const height = Math.ceil(y + 10);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
    `font-family="${escapeXml(FONT)}">\n` +
    `<rect width="${width}" height="${height}" fill="#ffffff"/>\n` +
    `${body.join('\n')}\n</svg>\n`
  );
}

// ---------------------------------------------------------------------------------------
// `shardbox chart`.

const CHART_USAGE = `usage: shardbox chart RESULTS... [--out FILE]
  RESULTS      directories of result files (ycsb-<workload>-<engine>.json) or single files;
               several are overlaid, each labelled by its directory's name
  --out FILE   where to write the SVG (default: <first directory>/latency.svg)
`;

function directoryOf(path: string): string {
  try {
    return statSync(path).isDirectory() ? resolve(path) : dirname(resolve(path));
  } catch {
    return resolve(path);
  }
}

/** Labels for the inputs: directory base names; "parent/name" where two collide, then a number. */
export function runLabels(paths: string[]): string[] {
  const dirs = paths.map(directoryOf);
  const short = dirs.map((d) => basename(d) || d);
  const longer = dirs.map((d, i) => `${basename(dirname(d))}/${short[i]}`);
  const count = (xs: string[], x: string) => xs.filter((y) => y === x).length;
  const labels = short.map((s, i) => (count(short, s) === 1 ? s : count(longer, longer[i]) === 1 ? longer[i] : s));
  return labels.map((l, i) => (count(labels, l) === 1 ? l : `${l} (${labels.slice(0, i + 1).filter((x) => x === l).length})`));
}

/** `shardbox chart DIR... [--out FILE]`: writes the SVG, prints its path; 2 on bad usage. */
export async function chartMain(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { out: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
  } catch (err) {
    process.stderr.write(`shardbox chart: ${(err as Error).message}\n\n${CHART_USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(CHART_USAGE);
    return 0;
  }
  const paths = parsed.positionals;
  if (paths.length === 0) {
    process.stderr.write(`shardbox chart: no results given\n\n${CHART_USAGE}`);
    return 2;
  }
  let runs: ChartRun[];
  try {
    const labels = runLabels(paths);
    runs = paths.map((p, i) => ({ label: labels[i], results: readResults(p) }));
  } catch (err) {
    process.stderr.write(`shardbox chart: ${(err as Error).message}\n`);
    return 2;
  }
  const out = parsed.values.out ?? join(directoryOf(paths[0]) === resolve(paths[0]) ? paths[0] : dirname(paths[0]), 'latency.svg');
  try {
    writeFileSync(out, renderLatencySvg(runs));
  } catch (err) {
    process.stderr.write(`shardbox chart: cannot write ${out}: ${(err as Error).message}\n`);
    return 2;
  }
  process.stdout.write(`${out}\n`);
  return 0;
}
