/**
 * Lines of text on a PDF in any of the school's languages, including right-to-left ones and
 * lines that mix scripts ("أكمل دورة Greek A1: first steps").
 *
 * pdfkit shapes Arabic letters (through fontkit) but knows nothing of the Unicode bidirectional
 * algorithm, and one font does not cover every script. So each line is: split by bidi-js into
 * embedding levels, each character given the font that has it, cut into runs of one font and
 * one level, the runs put in visual order (rule L2), and each run drawn left to right. fontkit
 * reverses a run it sees as Arabic script by itself; any other run that must read right to left
 * (punctuation, brackets between Arabic words) is reversed and mirrored here, and Arabic-script
 * digits, which read left to right even in Arabic, are handed over pre-reversed.
 */
import bidiJs, { type Bidi } from 'bidi-js';
import PDFDocument from 'pdfkit';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const fontsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fonts');

export const FONT_FILES = {
  latin: 'NotoSans-Regular.ttf',
  latinBold: 'NotoSans-Bold.ttf',
  arabic: 'NotoNaskhArabic-Regular.ttf',
  arabicBold: 'NotoNaskhArabic-Bold.ttf',
} as const;
export type FontName = keyof typeof FONT_FILES;

interface FontkitFont {
  hasGlyphForCodePoint(codePoint: number): boolean;
  layout(text: string, features?: string[]): { direction?: string };
}

let loaded: { buffers: Record<FontName, Buffer>; fontkit: Record<FontName, FontkitFont> } | undefined;

/** Font files, read once; and their parsed form, to ask which characters each can draw. */
export function fonts() {
  if (loaded) return loaded;
  const buffers = {} as Record<FontName, Buffer>;
  const fontkit = {} as Record<FontName, FontkitFont>;
  const probe = new PDFDocument({ autoFirstPage: false });
  for (const [name, file] of Object.entries(FONT_FILES) as [FontName, string][]) {
    buffers[name] = readFileSync(path.join(fontsDir, file));
    probe.registerFont(name, buffers[name]);
    probe.font(name);
    // pdfkit keeps the fontkit font it parsed on the current font object; it has no public accessor.
    fontkit[name] = (probe as unknown as { _font: { font: FontkitFont } })._font.font;
  }
  loaded = { buffers, fontkit };
  return loaded;
}

export function registerFonts(doc: PDFKit.PDFDocument) {
  for (const [name, buffer] of Object.entries(fonts().buffers)) doc.registerFont(name, buffer);
}

// bidi-js is CommonJS whose module.exports is the factory, while its types declare an ES default
// export; Node hands the factory over as the default import.
const bidi = (bidiJs as unknown as () => Bidi)();

export type Direction = 'ltr' | 'rtl';

const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

function isArabicScript(cp: number) {
  return (cp >= 0x0600 && cp <= 0x06ff) || (cp >= 0x0750 && cp <= 0x077f) || (cp >= 0x08a0 && cp <= 0x08ff) || (cp >= 0xfb50 && cp <= 0xfdff) || (cp >= 0xfe70 && cp <= 0xfeff);
}

/** Characters no embedded font can draw (they would print as empty boxes). */
export function unprintable(text: string): string[] {
  const { fontkit } = fonts();
  const missing = new Set<string>();
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (!fontkit.latin.hasGlyphForCodePoint(cp) && !fontkit.arabic.hasGlyphForCodePoint(cp)) missing.add(ch);
  }
  return [...missing];
}

export interface Run {
  /** What to hand to pdfkit, already in the order fontkit needs. */
  text: string;
  /** The run's characters in reading (logical) order. */
  logical: string;
  font: FontName;
  direction: Direction;
}

/** The runs of one line, left to right as they appear on the page. */
export function visualRuns(line: string, base: Direction, bold = false): Run[] {
  if (!line) return [];
  const { fontkit } = fonts();
  const latin: FontName = bold ? 'latinBold' : 'latin';
  const arabic: FontName = bold ? 'arabicBold' : 'arabic';
  const units = line.length;

  // One font per UTF-16 unit: strong characters pick by script; neutral ones (spaces, digits,
  // punctuation) stay with the font before them, so an Arabic phrase keeps its own spaces.
  const fontOf: (FontName | undefined)[] = new Array(units);
  const has = (f: FontName, cp: number) => fontkit[f].hasGlyphForCodePoint(cp);
  for (let i = 0; i < units; i++) {
    const cp = line.codePointAt(i)!;
    const type = bidi.getBidiCharTypeName(line[i]!);
    if (isArabicScript(cp) && has(arabic, cp) && (type === 'AL' || type === 'R' || type === 'AN' || type === 'NSM')) fontOf[i] = arabic;
    else if (type === 'L' || type === 'R') fontOf[i] = has(latin, cp) || !has(arabic, cp) ? latin : arabic;
    if (cp > 0xffff) fontOf[++i] = fontOf[i - 1];
  }
  for (let i = 0; i < units; i++) {
    if (fontOf[i]) continue;
    const cp = line.codePointAt(i)!;
    const before = i > 0 ? fontOf[i - 1] : undefined;
    const after = fontOf.slice(i + 1).find(Boolean);
    const preferred = before ?? after ?? (base === 'rtl' ? arabic : latin);
    fontOf[i] = has(preferred, cp) ? preferred : has(latin, cp) ? latin : has(arabic, cp) ? arabic : latin;
  }

  const embedding = bidi.getEmbeddingLevels(line, base);
  const levels = embedding.levels;
  const order = Array.from({ length: units }, (_, i) => i);
  for (const [start = 0, end = -1] of bidi.getReorderSegments(line, embedding)) {
    const reversed = order.slice(start, end + 1).reverse();
    order.splice(start, reversed.length, ...reversed);
  }
  const mirrored = bidi.getMirroredCharactersMap(line, embedding.levels);
  // Isolates and marks steer the order and are then left out: no font draws them.
  const drawn = order.filter((i) => !BIDI_CONTROLS.test(line[i]!));

  // Cut the visual sequence wherever the font, the level or logical adjacency changes.
  const groups: number[][] = [];
  for (const idx of drawn) {
    const group = groups.at(-1);
    const last = group?.at(-1);
    const step = last === undefined ? 0 : idx - last;
    const sameRun = group && last !== undefined && fontOf[idx] === fontOf[last] && levels[idx] === levels[last] && (step === 1 || step === -1) && (group.length === 1 || step === group[1]! - group[0]!);
    if (sameRun) group.push(idx);
    else groups.push([idx]);
  }

  return groups.map((g) => {
    const from = Math.min(...g);
    const to = Math.max(...g);
    let logical = '';
    for (let i = from; i <= to; i++) logical += mirrored.get(i) ?? line[i];
    const font = fontOf[from]!;
    const direction: Direction = levels[from]! % 2 ? 'rtl' : 'ltr';
    const fontkitReverses = fontkit[font].layout(logical).direction === 'rtl';
    const text = fontkitReverses === (direction === 'rtl') ? logical : [...logical].reverse().join('');
    return { text, logical: line.slice(from, to + 1), font, direction };
  });
}

const FEATURES = ['kern'];

export interface LineStyle {
  size: number;
  bold?: boolean;
  color?: string;
}

function runWidth(doc: PDFKit.PDFDocument, run: Run, size: number) {
  return doc.font(run.font).fontSize(size).widthOfString(run.text, { features: FEATURES } as PDFKit.Mixins.TextOptions);
}

export function lineWidth(doc: PDFKit.PDFDocument, line: string, base: Direction, style: LineStyle) {
  return visualRuns(line, base, style.bold).reduce((w, r) => w + runWidth(doc, r, style.size), 0);
}

/** Breaks text at spaces into lines no wider than `width`; a single word wider than that stays whole. */
export function wrap(doc: PDFKit.PDFDocument, text: string, base: Direction, style: LineStyle, width: number): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const candidate = current ? `${current} ${word}` : word;
    if (current && lineWidth(doc, candidate, base, style) > width) {
      lines.push(current);
      current = word;
    } else current = candidate;
  }
  if (current) lines.push(current);
  return lines;
}

/**
 * Draws one line with its baseline at `y`, placed in the box [x, x + width] by `align`
 * ('start' and 'end' follow the line's base direction). Returns the line's width.
 */
export function drawLine(
  doc: PDFKit.PDFDocument,
  line: string,
  box: { x: number; y: number; width: number; align: 'center' | 'start' | 'end'; base: Direction },
  style: LineStyle,
): number {
  const runs = visualRuns(line, box.base, style.bold);
  const widths = runs.map((r) => runWidth(doc, r, style.size));
  const total = widths.reduce((a, b) => a + b, 0);
  const toLeft = (box.align === 'start') === (box.base === 'ltr');
  let x = box.align === 'center' ? box.x + (box.width - total) / 2 : toLeft ? box.x : box.x + box.width - total;
  doc.fillColor(style.color ?? '#1b1f24');
  runs.forEach((run, i) => {
    doc
      .font(run.font)
      .fontSize(style.size)
      .text(run.text, x, box.y, { lineBreak: false, baseline: 'alphabetic', features: FEATURES } as PDFKit.Mixins.TextOptions);
    x += widths[i]!;
  });
  return total;
}
