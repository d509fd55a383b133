import express from 'express';
import sharp from 'sharp';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { InvalidInput } from '../../src/platform/errors.ts';
import { PHOTO_LONG_EDGE, checkUpload, checkUploads, normalisePhoto, type IncomingFile, type UploadRules } from '../../src/platform/upload-checks.ts';
import { receiveFiles } from '../../src/platform/uploads.ts';

const rules: UploadRules = { kinds: ['image', 'pdf', 'audio'], maxBytes: 5_000_000, maxFiles: 3 };
const file = (originalname: string, buffer: Buffer, mimetype = 'application/octet-stream'): IncomingFile => ({ originalname, mimetype, buffer, size: buffer.length });

const GPS = { IFD0: { Make: 'PhoneMaker', Model: 'Cheap Phone 1' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '37/1 58/1 4512/100', GPSLongitudeRef: 'E', GPSLongitude: '23/1 43/1 1234/100' } };
/** The EXIF tag that points to the GPS block (0x8825, little-endian, type LONG). */
const hasGpsPointer = (exif: Buffer | undefined) => !!exif && exif.includes(Buffer.from([0x25, 0x88, 0x04, 0x00]));

async function photo(format: 'jpeg' | 'png', width = 2400, height = 1800) {
  return sharp({ create: { width, height, channels: 3, background: '#c83' } })[format]().withExif(GPS).toBuffer();
}

/** The message key of the InvalidInput a check throws. */
async function rejection(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InvalidInput);
  return (err as InvalidInput).fields.files!.key;
}

const PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
const OPUS = Buffer.concat([Buffer.from('OggS'), Buffer.from([0, 2]), Buffer.alloc(20), Buffer.from([1, 19]), Buffer.from('OpusHead'), Buffer.alloc(40)]);
const AMR = Buffer.concat([Buffer.from('#!AMR\n'), Buffer.alloc(200)]);
const EXE = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(300, 0x90)]);

describe('photos', () => {
  it.each(['jpeg', 'png'] as const)('when a %s carries EXIF with a GPS position, then the stored photo has no metadata at all', async (format) => {
    const original = await photo(format);
    const before = await sharp(original).metadata();
    expect(hasGpsPointer(before.exif)).toBe(true);
    expect(original.includes(Buffer.from('PhoneMaker'))).toBe(true);

    const checked = await checkUpload(file(`IMG_0001.${format === 'jpeg' ? 'jpg' : 'png'}`, original, `image/${format}`), rules);
    const after = await sharp(checked.buffer).metadata();
    expect(checked.kind).toBe('image');
    expect(checked.mime).toBe('image/jpeg');
    expect(after.format).toBe('jpeg');
    expect(after.exif).toBeUndefined();
    expect(after.icc).toBeUndefined();
    expect(after.xmp).toBeUndefined();
    expect(checked.buffer.includes(Buffer.from('PhoneMaker'))).toBe(false);
    expect(Math.max(after.width, after.height)).toBe(PHOTO_LONG_EDGE);
    expect(checked.originalBytes).toBe(original.length);
    expect(checked.name).toBe('IMG_0001.jpg');
  });

  it('when a phone photo is stored sideways with an orientation tag, then it is turned upright', async () => {
    const sideways = await sharp({ create: { width: 300, height: 100, channels: 3, background: '#000' } }).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const out = await normalisePhoto(sideways);
    expect([out.width, out.height]).toEqual([100, 300]);
  });

  it('when a small photo is sent, then it is not enlarged', async () => {
    const small = await photo('jpeg', 640, 480);
    const checked = await checkUpload(file('small.jpg', small), rules);
    expect([checked.width, checked.height]).toEqual([640, 480]);
  });

  it('when HTML is glued behind a real JPEG, then the re-encoded photo carries none of it', async () => {
    const polyglot = Buffer.concat([await photo('jpeg', 200, 200), Buffer.from('<script>alert(document.cookie)</script>')]);
    const checked = await checkUpload(file('nice.jpg', polyglot), rules);
    expect(checked.buffer.includes(Buffer.from('<script>'))).toBe(false);
  });

  it('when a file has the first bytes of a JPEG but is broken, then it is refused as unreadable', async () => {
    const broken = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(500, 7)]);
    expect(await rejection(checkUpload(file('broken.jpg', broken), rules))).toBe('uploads:imageUnreadable');
  });
});

describe('what a file really is', () => {
  it('when a program is renamed photo.jpg and sent as image/jpeg, then it is refused by its contents', async () => {
    expect(await rejection(checkUpload(file('photo.jpg', EXE, 'image/jpeg'), rules))).toBe('uploads:notWhatItSeems');
  });

  it('when an HTML page is disguised as an image, then it is refused', async () => {
    const html = Buffer.from('<!doctype html><html><body><script>fetch("/")</script></body></html>');
    expect(await rejection(checkUpload(file('cat.png', html, 'image/png'), rules))).toBe('uploads:notWhatItSeems');
  });

  it('when an SVG with a script is sent as an image, then it is refused', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="9" height="9"/></svg>');
    expect(await rejection(checkUpload(file('drawing.svg', svg, 'image/svg+xml'), rules))).toBe('uploads:notWhatItSeems');
  });

  it('when a file is empty, then it is refused by name', async () => {
    const err = await checkUpload(file('page.jpg', Buffer.alloc(0)), rules).catch((e: InvalidInput) => e);
    expect((err as InvalidInput).fields.files).toEqual({ key: 'uploads:empty', vars: { name: 'page.jpg' } });
  });

  it('when a file is larger than allowed, then it is refused with the limit in MB', async () => {
    const err = await checkUpload(file('scan.pdf', PDF), { ...rules, maxBytes: 10 }).catch((e: InvalidInput) => e);
    expect((err as InvalidInput).fields.files).toEqual({ key: 'uploads:tooLarge', vars: { name: 'scan.pdf', max: 0 } });
  });

  it('when more files are sent than allowed, then the whole upload is refused', async () => {
    const pdfs = [1, 2, 3, 4].map((i) => file(`p${i}.pdf`, PDF));
    expect(await rejection(checkUploads(pdfs, rules))).toBe('uploads:tooMany');
  });

  it('when PDFs and recordings are sent, then they are kept byte for byte with the type their contents show', async () => {
    const [pdf, opus, amr] = await checkUploads([file('answer', PDF, 'text/plain'), file('voice.ogg', OPUS), file('memo.amr', AMR)], rules);
    expect(pdf).toMatchObject({ kind: 'pdf', mime: 'application/pdf', name: 'answer.pdf' });
    expect(pdf!.buffer.equals(PDF)).toBe(true);
    expect(opus).toMatchObject({ kind: 'audio', mime: 'audio/ogg', name: 'voice.opus' });
    expect(amr).toMatchObject({ kind: 'audio', mime: 'audio/amr' });
  });

  it('when a PDF comes to a form that takes only photos, then it is refused as not accepted', async () => {
    expect(await rejection(checkUpload(file('scan.pdf', PDF), { ...rules, kinds: ['image'] }))).toBe('uploads:notAccepted');
  });

  it('when a name carries folders or control characters, then only a clean name is kept', async () => {
    const checked = await checkUpload(file('..\\..\\C:\\evil\u0007name.PDF', PDF), rules);
    expect(checked.name).toBe('evilname.pdf');
  });
});

describe('receiving a multipart form', () => {
  const app = express();
  app.post('/up', async (req, res) => {
    const got = await receiveFiles(req, res, 'files', { maxBytes: 1000, maxFiles: 2 });
    res.json({ files: got.files.map((f) => f.originalname), problem: got.problem?.fields, text: (req.body as { text?: string }).text });
  });

  it('when a file goes past the size limit, then the form gets a message and keeps the text typed before it', async () => {
    const res = await request(app).post('/up').field('text', 'my answer').attach('files', Buffer.alloc(5000, 1), 'big.jpg');
    expect(res.body).toEqual({ files: [], problem: { files: { key: 'uploads:fileTooLarge', vars: { max: 0 } } }, text: 'my answer' });
  });

  it('when too many files are sent, then the form gets the count message', async () => {
    const res = await request(app).post('/up').attach('files', PDF, 'a.pdf').attach('files', PDF, 'b.pdf').attach('files', PDF, 'c.pdf');
    expect(res.body.problem).toEqual({ files: { key: 'uploads:tooMany', vars: { count: 2 } } });
  });

  it('when files are within the limits, then they arrive', async () => {
    const res = await request(app).post('/up').field('text', 'hi').attach('files', PDF, 'a.pdf');
    expect(res.body).toEqual({ files: ['a.pdf'], text: 'hi' });
  });
});
