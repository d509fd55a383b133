/**
 * Just enough of a PDF reader to check what a certificate PDF says, without trusting the code that
 * wrote it: objects and their (inflated) streams, text as the ToUnicode maps of its fonts read it,
 * line by line from the top, and embedded files.
 */
import { inflateSync } from 'node:zlib';

interface PdfObject {
  dict: string;
  stream?: Buffer;
}

export function pdfObjects(pdf: Buffer): Map<number, PdfObject> {
  const text = pdf.toString('latin1');
  const objects = new Map<number, PdfObject>();
  const head = /(\d+) 0 obj\s*/g;
  let m: RegExpExecArray | null;
  while ((m = head.exec(text))) {
    const start = m.index + m[0].length;
    const end = text.indexOf('endobj', start);
    const body = text.slice(start, end);
    const at = body.indexOf('stream');
    if (at < 0 || !/\/Length (\d+)/.test(body.slice(0, at))) {
      objects.set(Number(m[1]), { dict: body });
      continue;
    }
    const dict = body.slice(0, at);
    const length = Number(/\/Length (\d+)/.exec(dict)![1]);
    let from = start + at + 'stream'.length;
    if (text[from] === '\r') from++;
    if (text[from] === '\n') from++;
    const raw = pdf.subarray(from, from + length);
    objects.set(Number(m[1]), { dict, stream: /\/FlateDecode/.test(dict) ? inflateSync(raw) : raw });
    head.lastIndex = from + length;
  }
  return objects;
}

const ref = (dict: string, key: string) => {
  const m = new RegExp(`/${key} (\\d+) 0 R`).exec(dict);
  return m ? Number(m[1]) : undefined;
};

const utf16 = (hex: string) => {
  let s = '';
  for (let i = 0; i + 4 <= hex.length; i += 4) s += String.fromCharCode(parseInt(hex.slice(i, i + 4), 16));
  return s;
};

/** Glyph code (hex) → the text it stands for, from a ToUnicode CMap (bfchar and bfrange forms). */
function toUnicode(cmap: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const block of cmap.matchAll(/beginbfchar([\s\S]*?)endbfchar/g)) {
    for (const [, code, text] of block[1]!.matchAll(/<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>/g)) map.set(code!.toLowerCase(), utf16(text!));
  }
  for (const block of cmap.matchAll(/beginbfrange([\s\S]*?)endbfrange/g)) {
    for (const [, lo, hi, rest] of block[1]!.matchAll(/<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*(\[[^\]]*\]|<[0-9a-fA-F]+>)/g)) {
      const from = parseInt(lo!, 16);
      const to = parseInt(hi!, 16);
      const width = lo!.length;
      const list = rest!.startsWith('[') ? [...rest!.matchAll(/<([0-9a-fA-F\s]+)>/g)].map((x) => x[1]!.replace(/\s/g, '')) : null;
      for (let c = from; c <= to; c++) {
        const code = c.toString(16).padStart(width, '0');
        if (list) map.set(code, utf16(list[c - from] ?? ''));
        else {
          const base = parseInt(rest!.slice(1, -1), 16) + (c - from);
          map.set(code, String.fromCharCode(base));
        }
      }
    }
  }
  return map;
}

export interface PdfLine {
  y: number;
  /** Each glyph's text, left to right as drawn. */
  glyphs: string[];
  /** The line as it looks, left to right. */
  visual: string;
}

/** The text of the first page, one entry per baseline, top first. */
export function pdfLines(pdf: Buffer): PdfLine[] {
  const objects = pdfObjects(pdf);
  const page = [...objects.values()].find((o) => /\/Type \/Page\b/.test(o.dict))!;
  const fonts = new Map<string, Map<string, string>>();
  const resources = objects.get(ref(page.dict, 'Resources')!)?.dict ?? page.dict;
  const fontDict = /\/Font\s*<<([\s\S]*?)>>/.exec(resources)![1]!;
  for (const [, name, id] of fontDict.matchAll(/\/(\S+) (\d+) 0 R/g)) {
    const font = objects.get(Number(id))!;
    const cmapId = ref(font.dict, 'ToUnicode');
    fonts.set(name!, cmapId ? toUnicode(objects.get(cmapId)!.stream!.toString('latin1')) : new Map());
  }
  const content = objects.get(ref(page.dict, 'Contents')!)!.stream!.toString('latin1');
  const runs: { x: number; y: number; glyphs: string[] }[] = [];
  let font = new Map<string, string>();
  let x = 0;
  let y = 0;
  for (const op of content.matchAll(/([-\d.]+) ([-\d.]+) ([-\d.]+) ([-\d.]+) ([-\d.]+) ([-\d.]+) Tm|\/(\S+) [\d.]+ Tf|\[((?:[^\]])*)\] TJ|<([0-9a-fA-F]*)> Tj/g)) {
    if (op[1] !== undefined) {
      x = Number(op[5]);
      y = Number(op[6]);
    } else if (op[7] !== undefined) font = fonts.get(op[7]) ?? new Map();
    else {
      const hexes = op[8] !== undefined ? [...op[8].matchAll(/<([0-9a-fA-F]*)>/g)].map((h) => h[1]!) : [op[9]!];
      const glyphs: string[] = [];
      for (const hex of hexes) for (let i = 0; i + 4 <= hex.length; i += 4) glyphs.push(font.get(hex.slice(i, i + 4).toLowerCase()) ?? '\ufffd');
      runs.push({ x, y, glyphs });
    }
  }
  // Runs on one baseline make a line; a mark placed a little above its letter (an Arabic shadda)
  // is drawn as a run of its own a few points higher and belongs to the same line.
  const lines: { y: number; runs: { x: number; glyphs: string[] }[] }[] = [];
  for (const r of [...runs].sort((a, b) => a.y - b.y)) {
    const line = lines.at(-1);
    if (line && r.y - line.y <= 4) line.runs.push(r);
    else lines.push({ y: r.y, runs: [r] });
  }
  // PDF coordinates grow upwards: the highest baseline is the top line.
  return lines
    .reverse()
    .map(({ y: ly, runs: rs }) => {
      const glyphs = rs.sort((a, b) => a.x - b.x).flatMap((r) => r.glyphs);
      return { y: ly, glyphs, visual: glyphs.join('') };
    });
}

/** Text without Arabic vowel and shadda marks (drawn as positioned glyphs of their own). */
export const withoutMarks = (text: string) => text.replace(/[\u064B-\u065F\u0670]/g, '');

/** A right-to-left line in reading order: its glyphs taken right to left. */
export const readRtl = (line: PdfLine) => [...line.glyphs].reverse().join('');

/** The files embedded in the PDF, by name. */
export function pdfAttachments(pdf: Buffer): Map<string, Buffer> {
  const objects = pdfObjects(pdf);
  const out = new Map<string, Buffer>();
  for (const o of objects.values()) {
    if (!/\/Type \/Filespec/.test(o.dict)) continue;
    const name = /\/F \(([^)]*)\)/.exec(o.dict)?.[1] ?? '';
    const ef = /\/EF\s*<<\s*\/F (\d+) 0 R/.exec(o.dict);
    if (ef) out.set(name, objects.get(Number(ef[1]))!.stream!);
  }
  return out;
}

export const pdfPageCount = (pdf: Buffer) => [...pdfObjects(pdf).values()].filter((o) => /\/Type \/Page\b/.test(o.dict)).length;
