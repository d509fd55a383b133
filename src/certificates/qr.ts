/**
 * The QR code that leads to a certificate's verification page: drawn as vector shapes in the PDF
 * and as a small inline SVG on the printable page, both from the same module matrix. Dark modules
 * are merged into horizontal runs, which keeps both a few kilobytes.
 */
import QRCode from 'qrcode';

const QUIET = 4;

/** Each row's dark runs as [column, length]. */
function darkRuns(text: string): { size: number; rows: [number, number][][] } {
  // Level M survives a crease or a coffee stain on a printed certificate.
  const { modules } = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const rows: [number, number][][] = [];
  for (let r = 0; r < modules.size; r++) {
    const row: [number, number][] = [];
    for (let c = 0; c < modules.size; c++) {
      if (!modules.get(r, c)) continue;
      const last = row.at(-1);
      if (last && last[0] + last[1] === c) last[1]++;
      else row.push([c, 1]);
    }
    rows.push(row);
  }
  return { size: modules.size, rows };
}

/** An <svg> made here from the matrix alone: no text of anyone's in it, safe to print unescaped. */
export function qrSvg(text: string): string {
  const { size, rows } = darkRuns(text);
  const full = size + 2 * QUIET;
  let d = '';
  rows.forEach((row, r) => {
    for (const [c, n] of row) d += `M${c + QUIET} ${r + QUIET}h${n}v1h-${n}z`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${full} ${full}" class="qr" aria-hidden="true" shape-rendering="crispEdges"><rect width="${full}" height="${full}" fill="#fff"/><path d="${d}" fill="#000"/></svg>`;
}

/** Draws the code with its quiet zone in a square of `side` points whose top-left corner is (x, y). */
export function drawQr(doc: PDFKit.PDFDocument, text: string, x: number, y: number, side: number) {
  const { size, rows } = darkRuns(text);
  const unit = side / (size + 2 * QUIET);
  rows.forEach((row, r) => {
    for (const [c, n] of row) doc.rect(x + (c + QUIET) * unit, y + (r + QUIET) * unit, n * unit, unit);
  });
  doc.fillColor('#000').fill();
}
