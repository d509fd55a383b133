import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Submission, SubmissionFile, SubmissionVersion } from '../../src/assignments/index.ts';
import { LocalStorage, fileStorage } from '../../src/platform/storage.ts';
import { signIn, type Agent } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeSchool } from '../support/factories.ts';
import { EXE, PDF, makeAssignment, phonePhoto, revisionOf } from './helpers.ts';

let t: TestApp;
let school: Awaited<ReturnType<typeof makeSchool>>;
let storage: LocalStorage;
beforeAll(async () => {
  t = await bootApp();
  school = await makeSchool(t.em());
  storage = fileStorage(t.config.dataDir);
});
afterAll(() => t.close());

/** Posts the learner's work form the way the phone's browser does: multipart, token in the URL. */
async function sendWork(agent: Agent, assignmentId: number, opts: { text?: string; action?: 'draft' | 'submit'; files?: { name: string; buffer: Buffer; type?: string }[]; revision?: string }) {
  const page = await agent.get(`/assignments/${assignmentId}`);
  const revision = opts.revision ?? (page.text.includes('name="revision"') ? revisionOf(page.text) : '0');
  let req = agent.post(`/assignments/${assignmentId}/work?_csrf=${agent.csrf}`).field('revision', revision);
  if (opts.text !== undefined) req = req.field('text', opts.text);
  for (const f of opts.files ?? []) req = req.attach('files', f.buffer, { filename: f.name, contentType: f.type ?? 'application/octet-stream' });
  return req.field('action', opts.action ?? 'submit');
}

/** Every file in the store, half-written ones included: a refused upload leaves none behind. */
function storedFiles(): string[] {
  if (!existsSync(storage.root)) return [];
  return readdirSync(storage.root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name)).sort();
}

const submissionOf = (assignmentId: number, learnerId: number) => t.em().findOne(Submission, { assignment: assignmentId, learner: learnerId });

describe('handing in from a phone', () => {
  it('when a learner hands in a photo with GPS and a text, then the photo is kept small and clean and they see both sizes', async () => {
    const a = await makeAssignment(t.em(), school.teacherA, [school.cohortA]);
    const agent = await signIn(t.app, school.learnerA1.username);
    const photo = await phonePhoto('jpeg');
    const res = await sendWork(agent, a.id, { text: 'Σήμερα πήγα στη θάλασσα.', files: [{ name: 'IMG_2024.jpg', buffer: photo, type: 'image/jpeg' }] });
    expect(res.status).toBe(303);
    const page = await agent.get(`/assignments/${a.id}`);
    expect(page.text).toContain('Handed in: version 1');
    expect(page.text).toContain('Σήμερα πήγα στη θάλασσα.');
    const [file] = await t.em().find(SubmissionFile, { submission: { assignment: a.id } });
    expect(file!.originalBytes).toBe(photo.length);
    expect(file!.bytes).toBeLessThan(photo.length);
    // The learner sees what they sent and what was kept.
    expect(page.text).toMatch(/sent \u2068?\d+(\.\d)? kB/);
    const stored = Buffer.concat(await (await storage.open(file!.storageId)).stream.toArray());
    const meta = await sharp(stored).metadata();
    expect(Math.max(meta.width, meta.height)).toBe(1600);
    expect(meta.exif).toBeUndefined();
    expect(stored.includes(Buffer.from('PhoneMaker'))).toBe(false);
  });

  it('when a PNG with EXIF GPS is handed in, then what is stored is a JPEG without any metadata', async () => {
    const a = await makeAssignment(t.em(), school.teacherA, [school.cohortA]);
    const agent = await signIn(t.app, school.learnerA2.username);
    const res = await sendWork(agent, a.id, { files: [{ name: 'scan.png', buffer: await phonePhoto('png', 1000, 800), type: 'image/png' }] });
    expect(res.status).toBe(303);
    const [file] = await t.em().find(SubmissionFile, { submission: { assignment: a.id } });
    expect(file!.mime).toBe('image/jpeg');
    const meta = await sharp(Buffer.concat(await (await storage.open(file!.storageId)).stream.toArray())).metadata();
    expect(meta.format).toBe('jpeg');
    expect(meta.exif).toBeUndefined();
  });

  it('when a learner saves a draft, then nothing is handed in and the draft comes back on the page', async () => {
    const a = await makeAssignment(t.em(), school.teacherA, [school.cohortA]);
    const agent = await signIn(t.app, school.learnerA1.username);
    const res = await sendWork(agent, a.id, { text: 'first thoughts', action: 'draft', files: [{ name: 'notes.pdf', buffer: PDF }] });
    expect(res.status).toBe(303);
    const page = await agent.get(`/assignments/${a.id}`);
    expect(page.text).toContain('Your draft was saved');
    expect(page.text).toContain('first thoughts');
    expect(page.text).toContain('notes.pdf');
    const s = await submissionOf(a.id, school.learnerA1.id);
    expect(s!.submittedVersion).toBe(0);
    expect(await t.em().count(SubmissionVersion, { submission: s!.id })).toBe(0);
  });
});

describe('uploads that are refused', () => {
  async function expectRefused(files: { name: string; buffer: Buffer; type?: string }[], message: string | RegExp, over: Parameters<typeof makeAssignment>[3] = {}) {
    const a = await makeAssignment(t.em(), school.teacherA, [school.cohortA], over);
    const agent = await signIn(t.app, school.learnerA1.username);
    const before = await t.em().count(SubmissionFile, {});
    const filesBefore = storedFiles();
    const res = await sendWork(agent, a.id, { text: 'my words are kept', files });
    expect(res.status).toBe(422);
    expect(res.text).toMatch(message);
    expect(res.text).toContain('my words are kept');
    expect(await t.em().count(SubmissionFile, {})).toBe(before);
    expect(storedFiles()).toEqual(filesBefore);
    expect(await t.em().count(SubmissionVersion, { submission: { assignment: a.id } })).toBe(0);
  }

  it('when a file is larger than the assignment allows, then the form says the limit and keeps the text', async () => {
    await expectRefused([{ name: 'big.pdf', buffer: Buffer.concat([PDF, Buffer.alloc(1_200_000)]) }], 'A file is larger than 1 MB', { maxFileMb: 1 });
  });

  it('when more files are sent than allowed, then nothing is stored', async () => {
    await expectRefused(
      [1, 2, 3].map((i) => ({ name: `p${i}.pdf`, buffer: PDF })),
      'Please send at most 2 files',
      { maxFiles: 2 },
    );
  });

  it('when a program is renamed .jpg, then it is refused by what it is', async () => {
    await expectRefused([{ name: 'homework.jpg', buffer: EXE, type: 'image/jpeg' }], '“homework.jpg” is named like a photo, PDF or recording, but it is something else');
  });

  it('when an HTML page is disguised as an image, then it is refused', async () => {
    await expectRefused([{ name: 'photo.png', buffer: Buffer.from('<html><script>alert(1)</script></html>'), type: 'image/png' }], '“photo.png” is named like a photo');
  });

  it('when a file is empty, then it is refused by name', async () => {
    await expectRefused([{ name: 'page1.jpg', buffer: Buffer.alloc(0), type: 'image/jpeg' }], '“page1.jpg” is empty');
  });

  it('when a PDF is sent to an assignment that takes only photos, then it is refused', async () => {
    await expectRefused([{ name: 'answer.pdf', buffer: PDF }], '“answer.pdf” is not a kind of file this form accepts', { forms: ['text', 'photo'] });
  });
});

describe('due dates, cut-off and versions', () => {
  it('when the cut-off has passed, then nothing is accepted, not even a draft', async () => {
    const now = Date.now();
    const a = await makeAssignment(t.em(), school.teacherA, [school.cohortA], { opensAt: new Date(now - 5 * 86400_000), dueAt: new Date(now - 3 * 86400_000), cutoffAt: new Date(now - 86400_000) });
    const agent = await signIn(t.app, school.learnerA1.username);
    const page = await agent.get(`/assignments/${a.id}`);
    expect(page.text).toContain('This assignment is closed');
    expect(page.text).not.toContain('name="revision"');
    const res = await sendWork(agent, a.id, { text: 'too late', revision: '0' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('This assignment is closed, so nothing was saved');
    expect(await submissionOf(a.id, school.learnerA1.id)).toBeNull();
  });

  it('when the due date passed but not the cut-off, then the work is taken and flagged with how late', async () => {
    const now = Date.now();
    const a = await makeAssignment(t.em(), school.teacherA, [school.cohortA], { opensAt: new Date(now - 5 * 86400_000), dueAt: new Date(now - 2 * 86400_000 - 3600_000), cutoffAt: new Date(now + 86400_000) });
    const agent = await signIn(t.app, school.learnerA2.username);
    expect((await agent.get(`/assignments/${a.id}`)).text).toContain('it will be marked late');
    await sendWork(agent, a.id, { text: 'sorry' });
    const page = await agent.get(`/assignments/${a.id}`);
    expect(page.text).toContain('version 1, 2 days late');
    const [v] = await t.em().find(SubmissionVersion, { submission: { assignment: a.id } });
    expect(v!.lateSeconds).toBeGreaterThan(2 * 86400);
  });

  it('when a teacher extends one learner past the cut-off, then that learner may still hand in, on time, and the other may not', async () => {
    const now = Date.now();
    const a = await makeAssignment(t.em(), school.teacherA, [school.cohortA], { opensAt: new Date(now - 5 * 86400_000), dueAt: new Date(now - 2 * 86400_000), cutoffAt: new Date(now - 86400_000) });
    const teacher = await signIn(t.app, school.teacherA.username);
    const local = new Date(now + 2 * 86400_000).toISOString().slice(0, 16);
    const granted = await teacher.post(`/assignments/${a.id}/extensions`).type('form').send({ _csrf: teacher.csrf, learnerId: school.learnerA1.id, dueAt: local });
    expect(granted.status).toBe(303);

    const lucky = await signIn(t.app, school.learnerA1.username);
    expect((await sendWork(lucky, a.id, { text: 'on time now' })).status).toBe(303);
    const [v] = await t.em().find(SubmissionVersion, { submission: { assignment: a.id, learner: school.learnerA1.id } });
    expect(v!.lateSeconds).toBe(0);

    const other = await signIn(t.app, school.learnerA2.username);
    expect((await sendWork(other, a.id, { text: 'me too', revision: '0' })).status).toBe(422);
  });

  it('when resubmission is allowed, then every version is kept with its own files and the next draft starts from the last', async () => {
    const a = await makeAssignment(t.em(), school.teacherA, [school.cohortA], { resubmissionAllowed: true });
    const agent = await signIn(t.app, school.learnerA1.username);
    await sendWork(agent, a.id, { text: 'version one', files: [{ name: 'one.pdf', buffer: PDF }] });
    const again = await agent.get(`/assignments/${a.id}`);
    expect(again.text).toContain('Hand in a new version');
    expect(again.text).toContain('version one');
    await sendWork(agent, a.id, { text: 'version two' });
    const s = await submissionOf(a.id, school.learnerA1.id);
    expect(s!.submittedVersion).toBe(2);
    const versions = await t.em().find(SubmissionVersion, { submission: s!.id }, { orderBy: { number: 'asc' } });
    expect(versions.map((v) => v.text)).toEqual(['version one', 'version two']);
    // The PDF of version 1 was carried into version 2 without being sent again: one set of bytes, two rows.
    const files = await t.em().find(SubmissionFile, { submission: s!.id, version: { $ne: null } });
    expect(files).toHaveLength(2);
    expect(new Set(files.map((f) => f.storageId)).size).toBe(1);
  });

  it('when resubmission is not allowed, then a second version is refused', async () => {
    const a = await makeAssignment(t.em(), school.teacherA, [school.cohortA]);
    const agent = await signIn(t.app, school.learnerA2.username);
    await sendWork(agent, a.id, { text: 'only once' });
    const page = await agent.get(`/assignments/${a.id}`);
    expect(page.text).toContain('This assignment takes only one version');
    const res = await sendWork(agent, a.id, { text: 'twice?', revision: revisionOf('name="revision" value="99"') });
    expect(res.status).toBe(303);
    expect((await submissionOf(a.id, school.learnerA2.id))!.submittedVersion).toBe(1);
  });

  it('when "Hand in" is tapped twice on a slow line, then one version is handed in', async () => {
    const a = await makeAssignment(t.em(), school.teacherA, [school.cohortA], { resubmissionAllowed: true });
    const agent = await signIn(t.app, school.learnerA1.username);
    const page = await agent.get(`/assignments/${a.id}`);
    const revision = revisionOf(page.text);
    const tap = () => agent.post(`/assignments/${a.id}/work?_csrf=${agent.csrf}`).field('revision', revision).field('text', 'tap').field('action', 'submit');
    const [first, second] = await Promise.all([tap(), tap()]);
    expect([first.status, second.status]).toEqual([303, 303]);
    expect((await submissionOf(a.id, school.learnerA1.id))!.submittedVersion).toBe(1);
  });

  it('when a learner removes a file from the draft, then its bytes go too', async () => {
    const a = await makeAssignment(t.em(), school.teacherA, [school.cohortA]);
    const agent = await signIn(t.app, school.learnerA2.username);
    await sendWork(agent, a.id, { action: 'draft', files: [{ name: 'x.pdf', buffer: PDF }] });
    const [file] = await t.em().find(SubmissionFile, { submission: { assignment: a.id } });
    const res = await agent.post(`/assignments/${a.id}/files/${file!.id}/remove`).type('form').send({ _csrf: agent.csrf });
    expect(res.status).toBe(303);
    expect(await t.em().count(SubmissionFile, { id: file!.id })).toBe(0);
    expect(await storage.exists(file!.storageId)).toBe(false);
  });
});
