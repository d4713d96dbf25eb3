/**
 * One experiment as one self-contained SVG, in the YCSB chart's style and drawn with its
 * primitives (bench/ycsb/chart.ts): throughput per second (successful, throttled, target),
 * then latency per second (p50 and p99 from the intended start, log scale), then the
 * experiment's extra figures if it recorded any; phases separated and named, events
 * (a split, a switch) marked.
 */
import { scaleLinear, scaleLog } from 'd3-scale';
import {
  AXIS, FONT, GRID, LEFT, MUTED, RED, RIGHT, TARGET, TEXT, THROUGHPUT,
  escapeXml, formatLatencyTick, legend, line, linePath, lineSwatch, logTicks, rect, text, textWidth, wrapPieces,
} from '../ycsb/chart.js';
import { formatRateShort } from '../ycsb/report.js';
import type { ExperimentResult, SecondPoint } from './framework.js';

const WIDTH = 1100;
const P99 = '#1f6fb4';
const P50 = '#8fb7da';
const EVENT = '#8e44ad';
/** Colours of the extra series, in order. */
const EXTRA_COLOURS = ['#2a9d3a', '#e8710a', '#8c564b', '#d6447f', '#17a2b8', '#9a9a1c', '#1f6fb4', '#c62828'];

type Scale = (v: number) => number;

/** Phase separators and names across a panel, and the events. */
function phaseMarks(result: ExperimentResult, x: Scale, top: number, bottom: number, labels: boolean): string {
  const parts: string[] = [];
  let previous: string | undefined;
  for (const p of result.timeline) {
    if (p.phase === previous) continue;
    previous = p.phase;
    if (p.t > 0) parts.push(line(x(p.t), top, x(p.t), bottom, '#9a9a9a', { 'stroke-dasharray': '4 3' }));
    if (labels) {
      parts.push(rect(x(p.t) + 2, top + 2, textWidth(p.phase, 11) + 6, 15, { fill: '#ffffff', 'fill-opacity': 0.85, stroke: 'none' }));
      parts.push(text(x(p.t) + 5, top + 13, p.phase, { 'font-size': 11, fill: TEXT }));
    }
  }
  result.events.forEach((e, i) => {
    parts.push(line(x(e.t), top, x(e.t), bottom, EVENT, { 'stroke-width': 1.5 }));
    if (!labels) return;
    // Right of its line, or left of it where it would run off the plot.
    const fits = x(e.t) + 4 + textWidth(e.label, 11) <= WIDTH - RIGHT;
    const at = { x: fits ? x(e.t) + 4 : x(e.t) - 4, anchor: fits ? 'start' : 'end' };
    parts.push(text(at.x, bottom - 6 - 14 * (i % 3), e.label, { 'font-size': 11, fill: EVENT, 'text-anchor': at.anchor }));
  });
  return parts.join('');
}

function timeAxis(x: Scale & { ticks(n: number): number[] }, bottom: number): string {
  const parts: string[] = [];
  for (const t of x.ticks(12)) {
    parts.push(line(x(t), bottom, x(t), bottom + 4, AXIS));
    parts.push(text(x(t), bottom + 15, `${t}`, { 'font-size': 10, fill: MUTED, 'text-anchor': 'middle' }));
  }
  parts.push(text(WIDTH - RIGHT + 10, bottom + 15, 'seconds', { 'font-size': 10, fill: MUTED }));
  return parts.join('');
}

function panelTitle(top: number, title: string, subtitle: string): string {
  return text(18, top + 16, title, { 'font-size': 15, 'font-weight': 'bold', fill: TEXT }) + text(18, top + 33, subtitle, { 'font-size': 11, fill: MUTED });
}

/** A linear panel of per-second series. */
function linearPanel(
  result: ExperimentResult,
  top: number,
  title: string,
  subtitle: string,
  series: Array<{ label: string; colour: string; dash?: string; value: (p: SecondPoint) => number | undefined; step?: boolean }>,
  unitLabel: string,
): { svg: string; height: number } {
  const parts = [panelTitle(top, title, subtitle)];
  const leg = legend([{ items: series.map((s) => ({ label: s.label, swatch: lineSwatch(s.colour, 1.8, s.dash) })) }], LEFT, top + 42, WIDTH - LEFT - RIGHT, 11);
  parts.push(leg.svg);
  const plotTop = top + 42 + leg.height + 6;
  const plotBottom = plotTop + 200;
  const seconds = Math.max(1, result.timeline.length);
  const x = scaleLinear().domain([0, seconds]).range([LEFT, WIDTH - RIGHT]);
  const values = result.timeline.flatMap((p) => series.map((s) => s.value(p) ?? 0));
  const y = scaleLinear().domain([0, Math.max(1, ...values) * 1.1]).range([plotBottom, plotTop]).nice(5);
  for (const t of y.ticks(5)) {
    parts.push(line(LEFT, y(t), WIDTH - RIGHT, y(t), GRID));
    parts.push(text(LEFT - 8, y(t) + 4, formatRateShort(t), { 'font-size': 11, fill: MUTED, 'text-anchor': 'end' }));
  }
  parts.push(text(LEFT - 8, plotTop - 12, unitLabel, { 'font-size': 10, fill: MUTED, 'text-anchor': 'end' }));
  parts.push(line(LEFT, plotTop, LEFT, plotBottom, AXIS), line(LEFT, plotBottom, WIDTH - RIGHT, plotBottom, AXIS));
  parts.push(timeAxis(x, plotBottom));
  parts.push(phaseMarks(result, x, plotTop, plotBottom, true));
  for (const s of series) {
    const d = s.step
      ? result.timeline.map((p) => `M${x(p.t)},${y(s.value(p) ?? 0)}H${x(p.t + 1)}`).join('')
      : linePath(result.timeline.map((p) => {
        const v = s.value(p);
        return { x: x(p.t + 0.5), y: v === undefined ? undefined : y(v) };
      }));
    parts.push(`<path d="${d}" fill="none" stroke="${s.colour}" stroke-width="1.8"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''} stroke-linejoin="round"/>`);
  }
  return { svg: parts.join(''), height: plotBottom + 24 - top };
}

/** p50 and p99 per second on a log axis. */
function latencyPanel(result: ExperimentResult, top: number): { svg: string; height: number } {
  const parts = [panelTitle(top, 'Latency per second', "successful operations, from each operation's intended start (log scale)")];
  const leg = legend([{ items: [{ label: 'p99', swatch: lineSwatch(P99, 2) }, { label: 'p50', swatch: lineSwatch(P50, 1.5, '5 3') }] }], LEFT, top + 42, WIDTH - LEFT - RIGHT, 11);
  parts.push(leg.svg);
  const plotTop = top + 42 + leg.height + 6;
  const plotBottom = plotTop + 200;
  const positive = result.timeline.flatMap((p) => [p.p50Us, p.p99Us]).filter((v) => v > 0);
  if (positive.length === 0) {
    parts.push(text(LEFT, plotTop + 20, 'no successful operations', { 'font-size': 13, fill: MUTED }));
    return { svg: parts.join(''), height: plotTop + 40 - top };
  }
  const x = scaleLinear().domain([0, Math.max(1, result.timeline.length)]).range([LEFT, WIDTH - RIGHT]);
  const y = scaleLog().domain([Math.min(...positive) / 1.3, Math.max(...positive) * 1.6]).range([plotBottom, plotTop]).nice();
  for (const t of logTicks(y.domain() as [number, number])) {
    parts.push(line(LEFT, y(t), WIDTH - RIGHT, y(t), GRID));
    parts.push(text(LEFT - 8, y(t) + 4, formatLatencyTick(t), { 'font-size': 11, fill: MUTED, 'text-anchor': 'end' }));
  }
  parts.push(line(LEFT, plotTop, LEFT, plotBottom, AXIS), line(LEFT, plotBottom, WIDTH - RIGHT, plotBottom, AXIS));
  parts.push(timeAxis(x, plotBottom));
  parts.push(phaseMarks(result, x, plotTop, plotBottom, false));
  for (const [key, colour, style] of [['p50Us', P50, ' stroke-width="1.5" stroke-dasharray="5 3"'], ['p99Us', P99, ' stroke-width="2"']] as const) {
    const d = linePath(result.timeline.map((p) => ({ x: x(p.t + 0.5), y: p[key] > 0 ? y(p[key]) : undefined })));
    parts.push(`<path d="${d}" fill="none" stroke="${colour}"${style} stroke-linejoin="round"/>`);
  }
  return { svg: parts.join(''), height: plotBottom + 24 - top };
}

/** The names of the extra series, in order of first appearance. */
export function extraSeriesOf(result: ExperimentResult): string[] {
  const names: string[] = [];
  for (const p of result.timeline) for (const k of Object.keys(p.extra ?? {})) if (!names.includes(k)) names.push(k);
  return names;
}

/** One self-contained SVG document of an experiment's result. */
export function renderExperimentSvg(result: ExperimentResult): string {
  const body: string[] = [text(18, 32, result.title, { 'font-size': 20, 'font-weight': 'bold', fill: TEXT })];
  const claim = wrapPieces(`Claim: ${result.claim}`.split(' '), WIDTH - 40, 13, ' ');
  claim.forEach((l, i) => body.push(text(18, 54 + i * 17, l, { 'font-size': 13, fill: MUTED })));
  let y = 54 + claim.length * 17;
  const notes = result.notes.flatMap((n) => wrapPieces(`• ${n}`.split(' '), WIDTH - 40, 12, ' '));
  notes.forEach((l, i) => body.push(text(18, y + 4 + i * 16, l, { 'font-size': 12, fill: MUTED })));
  y += notes.length * 16 + 10;

  const throughput = linearPanel(result, y, 'Throughput per second', 'operations by their intended second: succeeded, throttled, and the target rate', [
    { label: 'successful ops/s', colour: THROUGHPUT, value: (p) => p.ok },
    { label: 'throttled ops/s', colour: RED, value: (p) => p.throttled },
    { label: 'target ops/s', colour: TARGET, dash: '3 2', value: (p) => p.targetOpsPerSec, step: true },
    ...(result.timeline.some((p) => p.errors > 0) ? [{ label: 'errors/s', colour: '#e8710a', dash: '2 2', value: (p: SecondPoint) => p.errors }] : []),
  ], 'ops/s');
  body.push(throughput.svg);
  y += throughput.height + 10;
  body.push(line(18, y, WIDTH - 18, y, '#dddddd'));
  const latency = latencyPanel(result, y + 8);
  body.push(latency.svg);
  y += latency.height + 18;
  const extras = extraSeriesOf(result);
  if (extras.length > 0) {
    body.push(line(18, y, WIDTH - 18, y, '#dddddd'));
    const panel = linearPanel(result, y + 8, 'Capacity per second', 'as the cluster reports it', extras.map((name, i) => ({
      label: name,
      colour: EXTRA_COLOURS[i % EXTRA_COLOURS.length],
      value: (p: SecondPoint) => p.extra?.[name],
    })), 'units');
    body.push(panel.svg);
    y += panel.height + 18;
  }
  const height = Math.ceil(y + 10);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="${escapeXml(FONT)}">\n` +
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>\n${body.join('\n')}\n</svg>\n`
  );
}
