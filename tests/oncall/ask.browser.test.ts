import { describe, expect, it } from 'vitest';
import { Thread } from '../../src/oncall/index.ts';
import { browserSchool, expectFitsThePhone, phone, signInAs } from '../support/browser.ts';
import { Lesson } from '../../src/courses/index.ts';
import { PASSWORD, makeCohort, makeCourse, makeProgramme, makeUser, offerCourse } from '../support/factories.ts';
import fa from '../../locales/fa/oncall.json' with { type: 'json' };

const school = browserSchool();

const QUESTION = 'سلام. معنی کلمهٔ «θάλασσα» در این تمرین چیست؟';
const ANSWER = '«θάλασσα» یعنی دریا. جملهٔ اول را دوباره بخوان.';

describe('asking a teacher on a phone', () => {
  it('when learner1 asks in Farsi from a lesson, then teacher1 answers from the inbox and learner1 reads the answer', async () => {
    const em = school.t.em();
    const teacher = await makeUser(em, 'teacher', { username: 'teacher1', displayName: 'Eleni Teacher' });
    const learner = await makeUser(em, 'learner', { username: 'learner1', displayName: 'زهرا احمدی' });
    const cohort = await makeCohort(em, await makeProgramme(em), { teachers: [teacher], learners: [learner], name: 'Greek A1 — evening class' });
    const course = await makeCourse(em, { title: 'Ελληνικά A1' });
    await offerCourse(em, cohort, course);
    const lesson = await em.findOneOrFail(Lesson, { course: course.id, position: 1 });
    lesson.title = 'Η θάλασσα';
    await em.flush();

    // learner1 reads the site in Farsi.
    const learnerPhone = await phone(school.browser, { locale: 'fa-IR' });
    const lp = learnerPhone.page;
    await lp.goto(`${school.url}/login`);
    await lp.selectOption('#lng', 'fa');
    await Promise.all([lp.waitForLoadState('load'), lp.click('form.lang button')]);
    await signInAs(lp, school.url, 'learner1', PASSWORD);
    await lp.goto(`${school.url}/lessons/${lesson.id}`);
    expect(await lp.getAttribute('html', 'dir')).toBe('rtl');
    expect(await lp.getAttribute('html', 'lang')).toBe('fa');

    // The ask box sits folded on the page; open it, write, send.
    expect(await lp.textContent('#ask summary')).toBe(fa.ask.summary);
    await lp.click('#ask summary');
    await lp.fill('#ask-body', QUESTION);
    await expectFitsThePhone(lp);
    await Promise.all([lp.waitForURL(/\/questions\/\d+$/), lp.click('#ask button[type=submit]')]);
    // The thread page holds the question (the one-time "sent" notice above it is not checked: any
    // request of the same session in flight at that moment, such as the favicon, may take it).
    expect(await lp.textContent('.messages')).toContain(QUESTION);
    const threadId = Number(/\/questions\/(\d+)$/.exec(lp.url())![1]);
    const thread = await school.t.em().findOneOrFail(Thread, threadId);
    expect({ kind: thread.contextKind, id: thread.contextId, cohort: thread.cohort.id }).toEqual({ kind: 'lesson', id: lesson.id, cohort: cohort.id });

    // teacher1 finds it at the top of the inbox and answers.
    const teacherPhone = await phone(school.browser);
    const tp = teacherPhone.page;
    await signInAs(tp, school.url, 'teacher1', PASSWORD);
    await tp.goto(`${school.url}/inbox`);
    const first = tp.locator('ul.cards > li').first();
    expect(await first.textContent()).toContain('Η θάλασσα');
    // The lesson the learner was reading is one tap away.
    expect(await first.locator(`a[href="/lessons/${lesson.id}"]`).count()).toBe(1);
    await Promise.all([tp.waitForURL(`${school.url}/questions/${threadId}`), first.locator(`a[href="/questions/${threadId}"]`).click()]);
    expect(await tp.textContent('.messages')).toContain(QUESTION);
    await tp.fill('#f-body', ANSWER);
    await expectFitsThePhone(tp);
    await Promise.all([tp.waitForURL(`${school.url}/questions/${threadId}#latest`), tp.click('form[enctype="multipart/form-data"] button[type=submit]')]);
    expect(await tp.textContent('#latest')).toContain(ANSWER);

    // learner1 sees that an answer came, and reads it.
    await lp.goto(`${school.url}/questions`);
    expect(await lp.textContent('main')).toContain(fa.status.answered);
    await Promise.all([lp.waitForURL(`${school.url}/questions/${threadId}`), lp.click(`a[href="/questions/${threadId}"]`)]);
    const answer = lp.locator('.msg.from-teacher');
    expect(await answer.textContent()).toContain(ANSWER);
    expect(await answer.textContent()).toContain('Eleni Teacher');
    await expectFitsThePhone(lp);
    await lp.screenshot({ path: 'test-results/oncall-answer-fa-360.png', fullPage: true });
    await learnerPhone.context.close();
    await teacherPhone.context.close();
  });
});
