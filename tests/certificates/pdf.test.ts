import QRCode from 'qrcode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Certificate, formatCode, issueIfEligible, verifyCredential } from '../../src/certificates/index.ts';
import { Programme } from '../../src/programmes/index.ts';
import { User } from '../../src/accounts/index.ts';
import { post, signIn, type Agent } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { arrange, issuerOf, study } from './support.ts';
import { pdfAttachments, pdfLines, pdfPageCount, readRtl, withoutMarks } from './pdf-reader.ts';

let t: TestApp;
beforeAll(async () => {
  t = await bootApp();
});
afterAll(() => t.close());

const binary = (agent: Agent, url: string) =>
  agent
    .get(url)
    .buffer(true)
    .parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done(null, Buffer.concat(chunks)));
    });

/** A learner with an Arabic name in an Arabic-named programme, holding a certificate for an Arabic-titled course. */
async function arabicHolder(city: string) {
  const s = await arrange(t, 'اللغة اليونانية: الخطوات الأولى');
  await t.em().nativeUpdate(Programme, { id: s.programmeA.id }, { name: `برنامج هيليوس ${city}` });
  await t.em().nativeUpdate(User, { id: s.learnerA1.id }, { displayName: 'ليلى حسن' });
  await study(s.em, s.learnerA1.id, s.lessons);
  const cert = (await issueIfEligible(t.em(), issuerOf(t), s.learnerA1.id, s.course.id))!;
  return { ...s, cert, shown: formatCode(cert.code) };
}

describe('the certificate PDF', () => {
  it('when a learner chooses Arabic, then the PDF is one A4 page whose text, read right to left, is what the certificate says', async () => {
    const s = await arabicHolder('أثينا');
    const learner = await signIn(t.app, s.learnerA1.username);
    expect((await post(learner, `/certificates/${s.shown}/settings`, { printedName: 'ليلى حسن', language: 'ar' })).status).toBe(303);

    const res = await binary(learner, `/certificates/${s.shown}/pdf`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.headers['content-disposition']).toContain(`dars-certificate-${s.shown}.pdf`);
    const pdf = res.body as Buffer;
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdfPageCount(pdf)).toBe(1);
    expect(pdf.toString('latin1')).toMatch(/\/MediaBox \[0 0 841\.89 595\.28\]/);
    expect(pdf.length).toBeLessThan(60_000);

    const lines = pdfLines(pdf);
    const read = lines.map((l) => withoutMarks(readRtl(l)));
    // Top to bottom: programme, heading, "this certifies that", name, "has completed", course.
    expect(read.slice(0, 6)).toEqual(['برنامج هيليوس أثينا', 'شهادة إتمام', 'نشهد بأن', 'ليلى حسن', 'أتم الدورة', 'اللغة اليونانية: الخطوات الأولى']);
    const visual = lines.map((l) => l.visual);
    // Lines that mix scripts, as drawn from left to right: the Latin level and the code keep their
    // own direction inside the Arabic sentence ("Level A1 · two study hours", "Verification code: …").
    expect(visual).toContain('ةسارد اتعاس · A1 ىوتسملا');
    expect(visual).toContain(`${s.shown} :ققحتلا زمر`);
    expect(visual).toContain(`${t.config.APP_ORIGIN}/verify/${s.shown}`);
  });

  it('when a code starts with digits, then inside an Arabic sentence it still reads as written, on the PDF and on the printable page', async () => {
    const s = await arabicHolder('هيراكليون');
    // Unisolated, "6598" would be taken as an Arabic number and drawn after "PNHF-DQR0".
    await t.em().nativeUpdate(Certificate, { id: s.cert.id }, { code: '6598PNHFDQR0', language: 'ar' });
    const learner = await signIn(t.app, s.learnerA1.username);
    const pdf = (await binary(learner, '/certificates/6598-PNHF-DQR0/pdf')).body as Buffer;
    expect(pdfLines(pdf).map((l) => l.visual)).toContain('6598-PNHF-DQR0 :ققحتلا زمر');
    const page = await learner.get('/certificates/6598-PNHF-DQR0');
    expect(page.text).toContain('<strong>رمز التحقق: \u20686598-PNHF-DQR0\u2069</strong>');
  });

  it('when the PDF is downloaded in English or with ?lang=, then it is in that language, and it carries the signed credential inside', async () => {
    const s = await arabicHolder('سالونيك');
    const learner = await signIn(t.app, s.learnerA1.username);
    const en = (await binary(learner, `/certificates/${s.shown}/pdf?lang=en`)).body as Buffer;
    const enLines = pdfLines(en).map((l) => l.visual);
    expect(enLines).toContain('Certificate of completion');
    expect(enLines).toContain(`Verification code: ${s.shown}`);
    const el = (await binary(learner, `/certificates/${s.shown}/pdf?lang=el`)).body as Buffer;
    expect(pdfLines(el).map((l) => l.visual)).toContain('Πιστοποιητικό ολοκλήρωσης');

    const attached = pdfAttachments(en).get(`dars-certificate-${s.shown}.json`);
    expect(attached).toBeDefined();
    const credential = JSON.parse(attached!.toString('utf8'));
    const keys = (await learner.get('/.well-known/dars-certificates.json')).body.keys;
    expect(verifyCredential(credential, keys)).toMatchObject({ valid: true });
    const stored = await t.em().findOneOrFail(Certificate, s.cert.id);
    expect(credential).toEqual(JSON.parse(JSON.stringify(stored.credential)));
    expect(en.toString('latin1')).toContain(stored.credential.proof.proofValue);
  });

  it('when the printable page is opened in Farsi, then it is right to left with the QR code and the verification address', async () => {
    const s = await arabicHolder('باتراس');
    const learner = await signIn(t.app, s.learnerA1.username);
    await post(learner, `/certificates/${s.shown}/settings`, { printedName: 'ليلى حسن', language: 'fa' });
    const page = await learner.get(`/certificates/${s.shown}`);
    expect(page.text).toContain('<article class="certificate" lang="fa" dir="rtl">');
    expect(page.text).toContain('گواهی پایان دوره');
    // The QR code's dark modules are exactly those of a code for the verification address.
    const path = /<svg [^>]*class="qr"[\s\S]*?<path d="([^"]+)"/.exec(page.text)![1]!;
    const drawn = new Set<string>();
    for (const [, x, y, n] of path.matchAll(/M(\d+) (\d+)h(\d+)/g)) for (let i = 0; i < Number(n); i++) drawn.add(`${Number(x) + i - 4},${Number(y) - 4}`);
    const { modules } = QRCode.create(`${t.config.APP_ORIGIN}/verify/${s.shown}`, { errorCorrectionLevel: 'M' });
    const expected = new Set<string>();
    for (let r = 0; r < modules.size; r++) for (let c = 0; c < modules.size; c++) if (modules.get(r, c)) expected.add(`${c},${r}`);
    expect(drawn).toEqual(expected);
    expect(page.text).toContain(`/verify/${s.shown}`);
  });
});
