/**
 * Charts drawn on the server as SVG geometry (the partial views/partials/reports/chart.hbs turns it
 * into markup): no script, a few hundred bytes, crisp on any screen. Everything is laid out in a
 * 320-unit-wide box that scales to the page, so at 360 px one unit is about one pixel. Bars run
 * along the reading direction: in right-to-left languages they grow from the right and time runs
 * from right to left.
 */

export const WIDTH = 320;
const ROW = 40;
const LEGEND_ROW = 18;

export interface ChartInput {
  kind: 'bar' | 'stacked' | 'line';
  id: string;
  title: string;
  labels: string[];
  series: { name: string; values: (number | null)[] }[];
  /** How a value is written beside its bar or on the axis. */
  format: (n: number) => string;
  max?: number;
  rtl: boolean;
}

export interface ChartModel {
  id: string;
  title: string;
  width: number;
  height: number;
  bar: boolean;
  line: boolean;
  legend: { x: number; y: number; textX: number; anchor: string; name: string; cls: string }[];
  rows: { labelX: number; labelY: number; anchor: string; label: string; segments: { x: number; y: number; w: number; h: number; cls: string }[]; valueX: number; valueY: number; valueAnchor: string; value: string }[];
  lines: { points: string; cls: string; dots: { x: number; y: number }[] }[];
  axis: { x1: number; y1: number; x2: number; y2: number }[];
  ticks: { x: number; y: number; anchor: string; text: string }[];
  empty: boolean;
}

const n = (v: number) => Math.round(v * 10) / 10;

/**
 * SVG text inherits the page's direction, and in right-to-left text `start` is the right edge. So
 * the anchor that makes a text run rightwards from x (or leftwards to it) depends on the direction.
 */
const rightwards = (rtl: boolean) => (rtl ? 'end' : 'start');
const leftwards = (rtl: boolean) => (rtl ? 'start' : 'end');

function legendOf(input: ChartInput, top: number) {
  if (input.series.length < 2) return { legend: [], height: 0 };
  const legend = input.series.map((s, i) => {
    const y = top + i * LEGEND_ROW;
    return input.rtl
      ? { x: WIDTH - 12, y, textX: WIDTH - 18, anchor: leftwards(true), name: s.name, cls: `s${i}` }
      : { x: 0, y, textX: 18, anchor: rightwards(false), name: s.name, cls: `s${i}` };
  });
  return { legend, height: input.series.length * LEGEND_ROW + 6 };
}

export function drawChart(input: ChartInput): ChartModel {
  return input.kind === 'line' ? lineChart(input) : barChart(input);
}

/** Horizontal bars, one row per label (label above its bar, so long names fit a phone); stacked when there are several series. */
function barChart(input: ChartInput): ChartModel {
  const { legend, height: legendHeight } = legendOf(input, 2);
  const totals = input.labels.map((_, i) => input.series.reduce((s, ser) => s + (ser.values[i] ?? 0), 0));
  const max = input.max ?? Math.max(0, ...totals);
  const room = WIDTH - 64;
  const scale = max > 0 ? room / max : 0;
  const rows = input.labels.map((label, i) => {
    const y = legendHeight + i * ROW;
    let offset = 0;
    const segments = input.series.map((s, k) => {
      const w = Math.max(0, (s.values[i] ?? 0) * scale);
      const x = input.rtl ? WIDTH - offset - w : offset;
      offset += w;
      return { x: n(x), y: y + 18, w: n(w), h: 16, cls: `s${k}` };
    });
    const known = input.series.some((s) => s.values[i] !== null);
    return {
      labelX: input.rtl ? WIDTH : 0,
      labelY: y + 13,
      anchor: input.rtl ? leftwards(true) : rightwards(false),
      label,
      segments,
      valueX: n(input.rtl ? WIDTH - offset - 4 : offset + 4),
      valueY: y + 31,
      valueAnchor: input.rtl ? leftwards(true) : rightwards(false),
      value: known ? input.format(totals[i]!) : '–',
    };
  });
  return {
    id: input.id,
    title: input.title,
    width: WIDTH,
    height: legendHeight + Math.max(1, rows.length) * ROW,
    bar: true,
    line: false,
    legend,
    rows,
    lines: [],
    axis: [],
    ticks: [],
    empty: rows.length === 0,
  };
}

/** Lines over time: the first and last period named under the axis, zero and the top value beside it. */
function lineChart(input: ChartInput): ChartModel {
  const plotTop = 10;
  const plotHeight = 140;
  const axisLabels = 20;
  const { legend, height: legendHeight } = legendOf(input, plotTop + plotHeight + axisLabels + 8);
  const values = input.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const max = input.max ?? Math.max(1, ...values);
  const gutter = 44;
  const left = input.rtl ? 4 : gutter;
  const right = input.rtl ? WIDTH - gutter : WIDTH - 4;
  const count = input.labels.length;
  const xAt = (i: number) => {
    const t = count > 1 ? i / (count - 1) : 0.5;
    return n(input.rtl ? right - t * (right - left) : left + t * (right - left));
  };
  const yAt = (v: number) => n(plotTop + plotHeight - (v / max) * plotHeight);
  const lines = input.series.map((s, k) => {
    const dots = s.values.flatMap((v, i) => (v === null ? [] : [{ x: xAt(i), y: yAt(v) }]));
    return { points: dots.map((d) => `${d.x},${d.y}`).join(' '), cls: `s${k}`, dots };
  });
  const base = plotTop + plotHeight;
  const axisX = input.rtl ? right : left;
  const tickX = input.rtl ? right + 4 : left - 4;
  const tickAnchor = input.rtl ? rightwards(true) : leftwards(false);
  const ticks = [
    { x: tickX, y: plotTop + 4, anchor: tickAnchor, text: input.format(max) },
    { x: tickX, y: base, anchor: tickAnchor, text: input.format(0) },
  ];
  if (count > 0) {
    ticks.push({ x: xAt(0), y: base + 16, anchor: 'middle', text: input.labels[0]! });
    if (count > 1) ticks.push({ x: xAt(count - 1), y: base + 16, anchor: 'middle', text: input.labels[count - 1]! });
  }
  // Keep the period names inside the box: the end ones are anchored to their edge.
  for (const t of ticks.slice(2)) {
    if (t.x < 40) t.anchor = rightwards(input.rtl);
    if (t.x > WIDTH - 40) t.anchor = leftwards(input.rtl);
  }
  return {
    id: input.id,
    title: input.title,
    width: WIDTH,
    height: plotTop + plotHeight + axisLabels + 8 + legendHeight,
    bar: false,
    line: true,
    legend,
    rows: [],
    lines,
    axis: [
      { x1: left, y1: base, x2: right, y2: base },
      { x1: axisX, y1: plotTop, x2: axisX, y2: base },
    ],
    ticks,
    empty: count === 0,
  };
}
