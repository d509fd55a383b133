/**
 * The hostile upload corpus (tests/fixtures/hostile/uploads.ts) against both upload forms that
 * take files from learners: assignment work and questions to an on-call teacher. A file that lies
 * about itself is refused by name with the text kept and nothing stored; one that is two things
 * at once is kept only as the harmless one; any name is shown and sent back inert.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Submission, SubmissionFile } from '../../src/assignments/index.ts';
import { Attachment, Thread } from '../../src/oncall/index.ts';
import { makeAssignment, revisionOf } from '../assignments/helpers.ts';
import { CONTROL_CHARACTER_NAME, EMPTY, HOSTILE_NAMES, WRONG_MAGIC, jpegHtmlPolyglot, pdfHtmlPolyglot } from '../fixtures/hostile/uploads.ts';
import { ask, schoolWithLesson, threadIdFrom } from '../oncall/support.ts';
import { signIn, type Agent } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';

let t: TestApp;
let s: Awaited<ReturnType<typeof schoolWithLesson>>;
let photo: Buffer;
/** Signed in once each: the sign-in rate limit counts every attempt from one address. */
let learner: Agent;
let asker: Agent;
let teacher: Agent;
beforeAll(async () => {
  t = await bootApp();
  s = await schoolWithLesson(t.em());
  learner = await signIn(t.app, s.learnerA1.username);
  asker = await signIn(t.app, s.learnerA2.username);
  teacher = await signIn(t.app, s.teacherA.username);
  photo = await sharp({ create: { width: 200, height: 150, channels: 3, background: '#b07050' } }).jpeg().toBuffer();
});
afterAll(() => t.close());

function storedFiles(): string[] {
  const root = path.join(t.config.dataDir, 'files');
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name);
}

function binary(res: Response, cb: (err: Error | null, body: Buffer) => void) {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => cb(null, Buffer.concat(chunks)));
}

/** Page text without the isolation marks the `t` helper puts around names. */
const plain = (html: string) => html.replace(/[\u2068\u2069]/g, '');

/** Hands in one file for a new assignment; returns the answer and the assignment. */
async function handIn(file: { bytes: Buffer; name: string; type?: string }) {
  const a = await makeAssignment(t.em(), s.teacherA, [s.cohortA], { forms: ['text', 'photo', 'pdf'] });
  const revision = revisionOf((await learner.get(`/assignments/${a.id}`)).text);
  const res = await learner
    .post(`/assignments/${a.id}/work?_csrf=${learner.csrf}`)
    .field('text', 'My answer, with a file.')
    .field('action', 'submit')
    .field('revision', revision)
    .attach('files', file.bytes, { filename: file.name, contentType: file.type ?? 'application/octet-stream' });
  return { res, assignmentId: a.id };
}

/** What a teacher sees of a handed-in file: the grading page and the file as downloaded. */
async function teacherView(assignmentId: number) {
  const submission = await t.em().findOneOrFail(Submission, { assignment: assignmentId });
  const [file] = await t.em().find(SubmissionFile, { submission: submission.id });
  const page = await teacher.get(`/submissions/${submission.id}`);
  const download = await teacher.get(`/assignments/files/${file!.id}`).buffer(true).parse(binary);
  return { file: file!, page, download };
}

let questions = 0;
/** Asks with one file; each question in its own words (the same words again count as a resend). */
async function askWith(file: { bytes: Buffer; name: string }) {
  return ask(asker, 'lesson', s.lesson.id, { body: `Please look at my photo number ${++questions}.` }, [{ buffer: file.bytes, name: file.name }]);
}

describe('hostile uploads to an assignment', () => {
  it('when a photo is also an HTML page, then only a re-encoded photo is kept and the page is gone from its bytes', async () => {
    const { res, assignmentId } = await handIn({ bytes: await jpegHtmlPolyglot(), name: 'photo.jpg', type: 'image/jpeg' });
    expect(res.status).toBe(303);
    const { download } = await teacherView(assignmentId);
    expect(download.headers['content-type']).toBe('image/jpeg');
    expect(download.headers['x-content-type-options']).toBe('nosniff');
    expect((download.body as Buffer).includes(Buffer.from('<script'))).toBe(false);
    expect((await sharp(download.body as Buffer).metadata()).format).toBe('jpeg');
  });

  it('when a PDF is also an HTML page, then it is only ever sent as a download the browser may not run', async () => {
    const { res, assignmentId } = await handIn({ bytes: pdfHtmlPolyglot(), name: 'essay.pdf', type: 'application/pdf' });
    expect(res.status).toBe(303);
    const { download } = await teacherView(assignmentId);
    expect(download.headers['content-type']).toBe('application/pdf');
    expect(download.headers['content-disposition']).toMatch(/^attachment;/);
    expect(download.headers['x-content-type-options']).toBe('nosniff');
    expect(download.headers['content-security-policy']).toContain('sandbox');
  });

  it.each(WRONG_MAGIC)('when $what is sent, then it is refused by its bytes, the text is kept and nothing is stored', async ({ name, type, bytes }) => {
    const before = storedFiles();
    const { res, assignmentId } = await handIn({ bytes, name, type });
    expect(res.status).toBe(422);
    expect(plain(res.text)).toMatch(/is named like a photo, PDF or recording, but it is something else|is not a kind of file this form accepts/);
    expect(res.text).toContain('My answer, with a file.');
    expect(await t.em().count(SubmissionFile, { submission: { assignment: assignmentId } })).toBe(0);
    expect(storedFiles()).toEqual(before);
  });

  it('when an empty file is sent, then it is refused by name and nothing is stored', async () => {
    const { res, assignmentId } = await handIn({ bytes: EMPTY, name: 'page1.jpg', type: 'image/jpeg' });
    expect(res.status).toBe(422);
    expect(plain(res.text)).toContain('“page1.jpg” is empty');
    expect(await t.em().count(SubmissionFile, { submission: { assignment: assignmentId } })).toBe(0);
  });

  it('when a file name carries control characters, then the form says the file could not be read, keeps the text and stores nothing', async () => {
    const before = storedFiles();
    const { res, assignmentId } = await handIn({ bytes: photo, name: CONTROL_CHARACTER_NAME, type: 'image/jpeg' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('The file could not be read: the form arrived damaged');
    expect(await t.em().count(SubmissionFile, { submission: { assignment: assignmentId } })).toBe(0);
    expect(storedFiles()).toEqual(before);
  });

  it.each(HOSTILE_NAMES)('when a file name carries $what, then it is kept tamed and shown and sent back inert', async ({ name, shown }) => {
    const { res, assignmentId } = await handIn({ bytes: photo, name, type: 'image/jpeg' });
    expect(res.status).toBe(303);
    const { file, page, download } = await teacherView(assignmentId);
    expect(file.name).toMatch(shown);
    expect(page.text).not.toMatch(/<img src=x|[\u202a-\u202e\u2066\u2067\u200e\u200f\u061c]/);
    expect(page.text).not.toContain('passwd.jpg"><');
    // A header that survives: plain ASCII in filename=, the real name percent-encoded in filename*=.
    const disposition = String(download.headers['content-disposition']);
    expect(disposition).toMatch(/^(inline|attachment); filename="[\x20-\x7e]*"; filename\*=UTF-8''[A-Za-z0-9%._~!$&+^`|-]+$/);
    expect(decodeURIComponent(disposition.split("UTF-8''")[1]!)).toBe(file.name);
  });
});

describe('hostile uploads with a question to an on-call teacher', () => {
  it('when a photo is also an HTML page, then only a re-encoded photo is kept', async () => {
    const res = await askWith({ bytes: await jpegHtmlPolyglot(), name: 'board.jpg' });
    expect(res.status).toBe(303);
    const id = threadIdFrom(res.headers.location);
    const [attachment] = await t.em().find(Attachment, { message: { thread: id } }, { orderBy: { id: 'desc' } });
    const file = await teacher.get(`/questions/${id}/files/${attachment!.id}`).buffer(true).parse(binary);
    expect(file.headers['content-type']).toBe('image/jpeg');
    expect((file.body as Buffer).includes(Buffer.from('<script'))).toBe(false);
  });

  it.each(WRONG_MAGIC.filter((w) => w.type.startsWith('image/')))('when $what is sent, then it is refused, the question is kept and nothing is stored', async ({ name, bytes }) => {
    const threads = await t.em().count(Thread, {});
    const before = storedFiles();
    const res = await askWith({ bytes, name });
    expect(res.status).toBe(422);
    expect(plain(res.text)).toContain('is named like a photo, PDF or recording, but it is something else');
    expect(res.text).toContain(`Please look at my photo number ${questions}.`);
    expect(await t.em().count(Thread, {})).toBe(threads);
    expect(storedFiles()).toEqual(before);
  });

  it('when an empty file is sent, then it is refused by name and no question is stored', async () => {
    const threads = await t.em().count(Thread, {});
    const res = await askWith({ bytes: EMPTY, name: 'board.jpg' });
    expect(res.status).toBe(422);
    expect(await t.em().count(Thread, {})).toBe(threads);
  });

  it('when a photo name carries control characters, then the form says the file could not be read and no question is stored', async () => {
    const threads = await t.em().count(Thread, {});
    const res = await askWith({ bytes: photo, name: CONTROL_CHARACTER_NAME });
    expect(res.status).toBe(422);
    expect(res.text).toContain('The file could not be read: the form arrived damaged');
    expect(await t.em().count(Thread, {})).toBe(threads);
  });

  it.each(HOSTILE_NAMES)('when a photo name carries $what, then it is kept tamed and the teacher sees it inert', async ({ name, shown }) => {
    const res = await askWith({ bytes: photo, name });
    expect(res.status).toBe(303);
    const id = threadIdFrom(res.headers.location);
    const [attachment] = await t.em().find(Attachment, { message: { thread: id } }, { orderBy: { id: 'desc' } });
    expect(attachment!.name).toMatch(shown);
    const page = await teacher.get(`/questions/${id}`);
    expect(page.status).toBe(200);
    expect(page.text).not.toMatch(/<img src=x|[\u202a-\u202e\u2066\u2067\u200e\u200f\u061c]/);
  });
});
