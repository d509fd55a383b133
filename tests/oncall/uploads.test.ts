import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { Attachment, Message, Thread } from '../../src/oncall/index.ts';
import { EXE, phonePhoto } from '../assignments/helpers.ts';
import { ask, plain, reply, schoolWithLesson, threadIdFrom } from './support.ts';

let t: TestApp;
let s: Awaited<ReturnType<typeof schoolWithLesson>>;
let photoWithGps: Buffer;
beforeAll(async () => {
  t = await bootApp();
  s = await schoolWithLesson(t.em());
  // A phone photo: 2400×1800 with EXIF naming the camera and where it was taken.
  photoWithGps = await sharp({ create: { width: 2400, height: 1800, channels: 3, background: '#c0a080' } })
    .jpeg()
    .withExif({ IFD0: { Make: 'PhoneMaker', Model: 'Cheap phone 3' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '37/1 58/1 0/1' } })
    .toBuffer();
});
afterAll(() => t.close());

/** An Ogg Opus recording as its first bytes show it, padded to the given size. */
const opus = (bytes: number) => Buffer.concat([Buffer.from('OggS'), Buffer.alloc(24), Buffer.from('OpusHead'), Buffer.alloc(bytes - 36, 1)]);

function storedFiles(): string[] {
  const root = path.join(t.config.dataDir, 'files');
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && !e.parentPath.includes('.partial')).map((e) => e.name);
}

function binary(res: import('supertest').Response, cb: (err: Error | null, body: Buffer) => void) {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => cb(null, Buffer.concat(chunks)));
}

describe('photos and voice notes follow the same checks as assignment uploads', () => {
  it('when a learner sends a phone photo with a question, then the teacher sees it small, re-encoded and without its EXIF or GPS', async () => {
    const learner = await signIn(t.app, s.learnerA1.username);
    const sent = await ask(learner, 'lesson', s.lesson.id, { body: 'Is my answer right?' }, [{ buffer: photoWithGps, name: 'IMG_2041.jpg' }]);
    expect(sent.status).toBe(303);
    const id = threadIdFrom(sent.headers.location);
    const teacher = await signIn(t.app, s.teacherA.username);
    const page = await teacher.get(`/questions/${id}`);
    const url = /<img src="(\/questions\/\d+\/files\/\d+)"/.exec(page.text)?.[1];
    expect(url).toBeDefined();
    const file = await teacher.get(url!).buffer(true).parse(binary);
    expect(file.status).toBe(200);
    expect(file.headers['content-type']).toBe('image/jpeg');
    expect(file.headers['x-content-type-options']).toBe('nosniff');
    expect(file.headers['content-disposition']).toMatch(/^inline; filename="IMG_2041\.jpg"/);
    const meta = await sharp(file.body as Buffer).metadata();
    expect(meta.format).toBe('jpeg');
    expect(Math.max(meta.width!, meta.height!)).toBeLessThanOrEqual(1600);
    expect(meta.exif).toBeUndefined();
    expect((file.body as Buffer).includes(Buffer.from('PhoneMaker'))).toBe(false);
  });

  it('when a file named like a photo is really something else, then it is refused by its bytes, the question is kept and nothing is stored', async () => {
    const learner = await signIn(t.app, s.learnerA2.username);
    const threads = await t.em().count(Thread, {});
    const files = storedFiles().length;
    const res = await ask(learner, 'lesson', s.lesson.id, { body: 'Here is my homework photo' }, [{ buffer: Buffer.from('<html><script>alert(1)</script></html>'), name: 'photo.jpg' }]);
    expect(res.status).toBe(422);
    expect(plain(res)).toContain('“photo.jpg” is named like a photo, PDF or recording, but it is something else.');
    expect(res.text).toContain('Here is my homework photo');
    expect(await t.em().count(Thread, {})).toBe(threads);
    expect(storedFiles().length).toBe(files);
  });

  it('when a program renamed .jpg or an HTML page renamed .png comes with a reply, then the teacher and the learner are refused alike and nothing is stored', async () => {
    const learner = await signIn(t.app, s.learnerA1.username);
    const id = threadIdFrom((await ask(learner, 'lesson', s.lesson.id, { body: 'A question to answer' })).headers.location);
    const teacher = await signIn(t.app, s.teacherA.username);
    const messages = await t.em().count(Message, { thread: id });
    const files = storedFiles().length;
    for (const who of [teacher, learner]) {
      for (const f of [{ buffer: EXE, name: 'homework.jpg' }, { buffer: Buffer.from('<!doctype html><html><body onload="alert(1)"></body></html>'), name: 'scan.png' }]) {
        const res = await reply(who, id, { body: 'Words that stay' }, [f]);
        expect(res.status).toBe(422);
        expect(plain(res)).toContain(`“${f.name}” is named like a photo, PDF or recording, but it is something else.`);
        expect(res.text).toContain('Words that stay');
      }
    }
    expect(await t.em().count(Message, { thread: id })).toBe(messages);
    expect(storedFiles().length).toBe(files);
  });

  it('when a PNG carrying a GPS position is sent, then what is kept is a JPEG without any metadata', async () => {
    const learner = await signIn(t.app, s.learnerA2.username);
    const png = await phonePhoto('png', 1200, 900);
    const sent = await ask(learner, 'lesson', s.lesson.id, { body: 'A screenshot of my answer' }, [{ buffer: png, name: 'screen.png' }]);
    expect(sent.status).toBe(303);
    const attachment = await t.em().findOneOrFail(Attachment, { message: { thread: threadIdFrom(sent.headers.location) } });
    expect(attachment.mime).toBe('image/jpeg');
    const file = await learner.get(`/questions/${threadIdFrom(sent.headers.location)}/files/${attachment.id}`).buffer(true).parse(binary);
    const meta = await sharp(file.body as Buffer).metadata();
    expect(meta.format).toBe('jpeg');
    expect(meta.exif).toBeUndefined();
    expect((file.body as Buffer).includes(Buffer.from('PhoneMaker'))).toBe(false);
  });

  it('when a learner sends a PDF, then it is refused as a kind this form does not take', async () => {
    const learner = await signIn(t.app, s.learnerA2.username);
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
    const res = await ask(learner, 'lesson', s.lesson.id, { body: 'My worksheet' }, [{ buffer: pdf, name: 'worksheet.pdf' }]);
    expect(res.status).toBe(422);
    expect(plain(res)).toContain('“worksheet.pdf” is not a kind of file this form accepts.');
  });

  it('when an empty file is chosen, then the learner is asked to choose it again', async () => {
    const learner = await signIn(t.app, s.learnerA2.username);
    const res = await ask(learner, 'lesson', s.lesson.id, { body: 'Empty file' }, [{ buffer: Buffer.alloc(0), name: 'voice.ogg' }]);
    expect(res.status).toBe(422);
    expect(plain(res)).toContain('“voice.ogg” is empty.');
  });

  it('when a file is larger than any upload may be, then the limit is named and the question kept', async () => {
    const learner = await signIn(t.app, s.learnerA2.username);
    const res = await ask(learner, 'lesson', s.lesson.id, { body: 'A very big photo' }, [{ buffer: Buffer.alloc(10_000_001, 0xff), name: 'big.jpg' }]);
    expect(res.status).toBe(422);
    expect(res.text).toContain('A file is larger than 10 MB.');
    expect(res.text).toContain('A very big photo');
  });

  it('when a voice note is longer than a short one, then it is refused with its limit', async () => {
    const learner = await signIn(t.app, s.learnerA2.username);
    const res = await ask(learner, 'lesson', s.lesson.id, { body: 'Long voice' }, [{ buffer: opus(3_500_000), name: 'long.opus' }]);
    expect(res.status).toBe(422);
    expect(plain(res)).toContain('“long.opus” is larger than 3 MB.');
  });

  it('when two photos are sent with one message, then the learner is asked for one', async () => {
    const learner = await signIn(t.app, s.learnerA2.username);
    const res = await ask(learner, 'lesson', s.lesson.id, { body: 'Two photos' }, [
      { buffer: photoWithGps, name: 'a.jpg' },
      { buffer: photoWithGps, name: 'b.jpg' },
    ]);
    expect(res.status).toBe(422);
    expect(res.text).toContain('Please send at most one photo and one voice note with a message.');
  });

  it('when a teacher answers with only a voice note, then the learner can play it and nobody else can fetch it', async () => {
    const learner = await signIn(t.app, s.learnerA1.username);
    const id = threadIdFrom((await ask(learner, 'lesson', s.lesson.id, { body: 'How do I pronounce it?' })).headers.location);
    const teacher = await signIn(t.app, s.teacherA.username);
    const answered = await reply(teacher, id, {}, [{ buffer: opus(20_000), name: 'Ευχαριστώ.opus' }]);
    expect(answered.status).toBe(303);
    const page = await learner.get(`/questions/${id}`);
    const url = /<audio controls preload="none" src="([^"]+)"/.exec(page.text)?.[1];
    expect(url).toBeDefined();
    expect(plain(page)).toContain('Voice note (20 kB)');
    const file = await learner.get(url!).buffer(true).parse(binary);
    expect(file.status).toBe(200);
    expect(file.headers['content-type']).toBe('audio/ogg');
    expect(file.headers['content-disposition']).toMatch(/^attachment; /);
    expect((file.body as Buffer).length).toBe(20_000);
    const attachment = await t.em().findOneOrFail(Attachment, { message: { thread: id } });
    expect(attachment.kind).toBe('voice');

    const other = await signIn(t.app, s.learnerA2.username);
    expect((await other.get(url!)).status).toBe(404);
    expect((await (await signIn(t.app, s.teacherB.username)).get(url!)).status).toBe(404);
    expect((await (await signIn(t.app, s.coordinatorA.username)).get(url!)).status).toBe(404);
    // The file's id under another thread's address does not open it either.
    const otherThread = threadIdFrom((await ask(other, 'lesson', s.lesson.id, { body: 'Mine' })).headers.location);
    expect((await other.get(`/questions/${otherThread}/files/${attachment.id}`)).status).toBe(404);
  });
});
