import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Announcement, Notice } from '../../src/oncall/index.ts';
import { post, signIn } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeSchool } from '../support/factories.ts';

let t: TestApp;
let s: Awaited<ReturnType<typeof makeSchool>>;
beforeAll(async () => {
  t = await bootApp();
  s = await makeSchool(t.em());
});
afterAll(() => t.close());

const badge = (html: string) => /href="\/notices">[^<]*<span class="badge">(\d+)<\/span>/.exec(html)?.[1] ?? null;

describe('announcements to a class', () => {
  it('when a teacher posts to their class, then its learners see it on their home page with a notice, and other classes do not', async () => {
    const teacher = await signIn(t.app, s.teacherA.username);
    const res = await post(teacher, '/announcements', { cohortId: s.cohortA.id, body: 'No class on Friday: the centre is closed.' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/announcements');

    for (const who of [s.learnerA1, s.learnerA2]) {
      const learner = await signIn(t.app, who.username);
      const home = await learner.get('/');
      expect(home.text).toContain('No class on Friday: the centre is closed.');
      expect(badge(home.text)).toBe('1');
      // Reading the announcements clears the count.
      expect((await learner.get('/announcements')).text).toContain('No class on Friday');
      expect(badge((await learner.get('/')).text)).toBeNull();
    }
    const outsider = await signIn(t.app, s.learnerB1.username);
    expect((await outsider.get('/')).text).not.toContain('No class on Friday');
    expect((await outsider.get('/announcements')).text).not.toContain('No class on Friday');
    expect(await t.em().count(Notice, { user: s.learnerB1.id })).toBe(0);
    expect((await (await signIn(t.app, s.teacherB.username)).get('/announcements')).text).not.toContain('No class on Friday');
  });

  it("when a teacher names a class they do not teach, then it is refused beside the field, the words are kept and nothing is sent", async () => {
    const teacher = await signIn(t.app, s.teacherA.username);
    const before = await t.em().count(Announcement, {});
    const res = await post(teacher, '/announcements', { cohortId: s.cohortB.id, body: 'Words for the wrong class' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('Please choose one of the options.');
    expect(res.text).toContain('Words for the wrong class');
    expect(await t.em().count(Announcement, {})).toBe(before);
    expect(await t.em().count(Notice, { user: s.learnerB1.id })).toBe(0);
  });

  it('when the announcement is empty, then the form asks for it and nothing is stored', async () => {
    const teacher = await signIn(t.app, s.teacherA.username);
    const before = await t.em().count(Announcement, {});
    const res = await post(teacher, '/announcements', { cohortId: s.cohortA.id, body: '   ' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('Please fill this in.');
    expect(await t.em().count(Announcement, {})).toBe(before);
  });
});
