/**
 * The certificate as a one-page A4 PDF in the learner's chosen language: what was achieved, the
 * programme, a QR code to the verification page, and the signature, printed as a fingerprint and
 * carried whole: the signed credential is attached to the PDF as a file and its proof is in the
 * document's metadata, so the PDF alone is enough to check the certificate offline.
 */
import PDFDocument from 'pdfkit';
import { isolate } from '../platform/views.ts';
import { formatCode } from './code.ts';
import { drawLine, registerFonts, wrap, type Direction, type LineStyle } from './pdf-text.ts';
import { drawQr } from './qr.ts';
import { signatureFingerprint, type SignedDocument } from './signing.ts';

export interface PrintedCertificate {
  code: string;
  printedName: string;
  courseTitle: string;
  level: string;
  studyHours: number;
  programmeName: string;
  edition: number;
  issuedAt: Date;
  verifyUrl: string;
  credential: SignedDocument;
  keyId: string;
}

type Translate = (key: string, vars?: Record<string, unknown>) => string;

const RTL_LANGUAGES = new Set(['ar', 'fa', 'ps', 'ur', 'he']);
export const directionOf = (language: string): Direction => (RTL_LANGUAGES.has(language) ? 'rtl' : 'ltr');

function issueDate(date: Date, language: string) {
  return new Intl.DateTimeFormat(language, { dateStyle: 'long', timeZone: 'UTC' }).format(date);
}

const INK = '#1b1f24';
const MUTED = '#5b6470';
const ACCENT = '#0b5fb3';

export function certificateFileName(code: string, ext: 'pdf' | 'json') {
  return `dars-certificate-${formatCode(code)}.${ext}`;
}

/**
 * The certificate's sentences in one language, for the PDF and the printable page alike. The level,
 * code, key and signature keep their own direction inside them (see isolate).
 */
export function printedWords(c: Pick<PrintedCertificate, 'code' | 'level' | 'studyHours' | 'edition' | 'issuedAt' | 'keyId' | 'credential'>, language: string, t: Translate) {
  const hours = t('certificates:pdf.hours', { count: c.studyHours });
  const details = t('certificates:pdf.details', { level: isolate(c.level), hours });
  return {
    heading: t('certificates:pdf.heading'),
    certifies: t('certificates:pdf.certifies'),
    completed: t('certificates:pdf.completed'),
    details: c.edition > 1 ? `${details} · ${t('certificates:pdf.edition', { edition: c.edition })}` : details,
    issued: t('certificates:pdf.issued', { date: issueDate(c.issuedAt, language) }),
    check: t('certificates:pdf.check'),
    code: t('certificates:pdf.code', { code: isolate(formatCode(c.code)) }),
    signed: t('certificates:pdf.signed', { key: isolate(c.keyId.slice(0, 16)), signature: isolate(signatureFingerprint(c.credential.proof.proofValue)) }),
  };
}

export function renderCertificatePdf(c: PrintedCertificate, language: string, t: Translate): Promise<Buffer> {
  const base = directionOf(language);
  const words = printedWords(c, language, t);
  const heading = words.heading;
  const doc = new PDFDocument({
    autoFirstPage: false,
    lang: language,
    displayTitle: true,
    info: {
      Title: `${heading}: ${c.courseTitle}`,
      Author: c.programmeName,
      Subject: c.verifyUrl,
      Keywords: formatCode(c.code),
      Creator: 'Dars',
      CreationDate: c.issuedAt,
    },
  });
  // Where the proof travels inside the PDF, for a verifier who has only the file.
  Object.assign(doc.info, {
    DarsVerificationCode: formatCode(c.code),
    DarsVerificationMethod: c.credential.proof.verificationMethod,
    DarsProofValue: c.credential.proof.proofValue,
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  registerFonts(doc);
  doc.addPage({ size: 'A4', layout: 'landscape', margin: 0 });

  const W = doc.page.width;
  const H = doc.page.height;
  doc.lineWidth(2).strokeColor(ACCENT).rect(22, 22, W - 44, H - 44).stroke();
  doc.lineWidth(0.5).rect(30, 30, W - 60, H - 60).stroke();

  const textX = 70;
  const textWidth = W - 140;
  let y = 84;
  const centred = (text: string, style: LineStyle, gap: number, maxLines = 2) => {
    const lines = wrap(doc, text, base, style, textWidth).slice(0, maxLines);
    for (const line of lines) {
      y += gap;
      drawLine(doc, line, { x: textX, y, width: textWidth, align: 'center', base }, style);
      gap = style.size * 1.35;
    }
  };

  centred(c.programmeName, { size: 15, bold: true, color: MUTED }, 0);
  centred(heading, { size: 32, bold: true, color: ACCENT }, 58, 1);
  centred(words.certifies, { size: 14, color: MUTED }, 44, 1);
  centred(c.printedName, { size: 30, bold: true, color: INK }, 48);
  centred(words.completed, { size: 14, color: MUTED }, 36, 1);
  centred(c.courseTitle, { size: 22, bold: true, color: INK }, 38);
  centred(words.details, { size: 13, color: INK }, 30, 1);
  centred(words.issued, { size: 13, color: INK }, 22, 1);

  // The checking corner: the QR code on the reading side's start, its words beside it.
  const qrSide = 92;
  const qrY = H - 50 - qrSide;
  const qrX = base === 'rtl' ? W - 50 - qrSide : 50;
  drawQr(doc, c.verifyUrl, qrX, qrY, qrSide);
  const blockX = base === 'rtl' ? 50 : 50 + qrSide + 14;
  const blockWidth = W - 100 - qrSide - 14;
  const line = (text: string, yy: number, style: LineStyle) => drawLine(doc, text, { x: blockX, y: yy, width: blockWidth, align: 'start', base }, style);
  line(words.check, qrY + 20, { size: 11, color: MUTED });
  line(c.verifyUrl, qrY + 38, { size: 11, color: ACCENT });
  line(words.code, qrY + 58, { size: 12, bold: true, color: INK });
  line(words.signed, qrY + 78, { size: 8, color: MUTED });

  doc.file(Buffer.from(JSON.stringify(c.credential, null, 2)), {
    name: certificateFileName(c.code, 'json'),
    type: 'application/json',
    description: 'Signed credential (Open Badges 3.0, eddsa-jcs-2022)',
    creationDate: c.issuedAt,
    modifiedDate: c.issuedAt,
    relationship: 'Source',
  } as Parameters<typeof doc.file>[1]);
  doc.end();
  return done;
}
