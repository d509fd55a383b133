import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LessonProgress } from '../../src/courses/index.ts';
import { ScormAttempt, ScormCommit, ScormItem } from '../../src/scorm/index.ts';
import { signIn, type Agent } from '../support/agent.ts';
import { scorm12Single, scorm2004Multi } from './packages.ts';
import { bootScorm, importOk, openRuntime, scormSchool, type ScormTestApp, type Scorm12API, type Scorm2004API } from './support.ts';

let t: ScormTestApp;
let s: Awaited<ReturnType<typeof scormSchool>>;
let lesson12: number;
let lesson2004: number;
let learner: Agent;
beforeAll(async () => {
  t = await bootScorm();
  s = await scormSchool(t);
  lesson12 = await importOk(t, s.teacher, s.place, scorm12Single({ masteryScore: 80 }));
  lesson2004 = await importOk(t, s.teacher, s.place, scorm2004Multi('4th'));
  learner = await signIn(t.app, s.learnerA1.username);
});
afterAll(() => t.close());

const attemptsOf = (learnerId: number, lessonId: number) =>
  t.em().find(ScormAttempt, { learner: learnerId, item: { package: { lesson: lessonId } } }, { orderBy: { item: { position: 'asc' }, number: 'asc' } });
const progressOf = (learnerId: number, lessonId: number) => t.em().findOne(LessonProgress, { learner: learnerId, lesson: lessonId });

describe('SCORM 1.2 runtime against the server', () => {
  it('when a SCO sets values and commits, then the server keeps them, and a value outside the data model is refused by the runtime', async () => {
    const r = await openRuntime(t, learner, lesson12);
    const api = r.api as Scorm12API;
    expect(api.LMSInitialize('')).toBe('true');
    expect(api.LMSGetValue('cmi.core.entry')).toBe('ab-initio');
    expect(api.LMSGetValue('cmi.core.student_id')).toBe(String(s.learnerA1.id));
    expect(api.LMSGetValue('cmi.core.student_name')).toBe(s.learnerA1.displayName);
    expect(api.LMSGetValue('cmi.launch_data')).toBe('level=1');
    expect(api.LMSGetValue('cmi.student_data.mastery_score')).toBe('80');
    expect(api.LMSSetValue('cmi.core.lesson_location', 'page-3')).toBe('true');
    expect(api.LMSSetValue('cmi.suspend_data', 'a'.repeat(4096))).toBe('true');
    expect(api.LMSSetValue('cmi.core.lesson_status', 'incomplete')).toBe('true');
    expect(api.LMSSetValue('cmi.interactions.0.id', 'q1')).toBe('true');
    expect(api.LMSSetValue('cmi.interactions.0.student_response', 'b')).toBe('true');
    expect(api.LMSSetValue('cmi.core.lesson_status', 'done')).toBe('false');
    expect(api.LMSSetValue('cmi.core.favourite_colour', 'blue')).toBe('false');
    expect(api.LMSCommit('')).toBe('true');
    const [answer] = await r.deliver();
    expect(answer!.status).toBe(200);
    expect(answer!.body).toMatchObject({ result: true, errorCode: 0, outcome: 'applied' });
    expect(answer!.headers['access-control-allow-origin']).toBe(t.contentOrigin);

    const [attempt] = await attemptsOf(s.learnerA1.id, lesson12);
    expect(attempt!.cmi).toMatchObject({ 'cmi.core.lesson_location': 'page-3', 'cmi.suspend_data': 'a'.repeat(4096), 'cmi.core.lesson_status': 'incomplete', 'cmi.interactions.0.id': 'q1' });
    expect(attempt!.lessonStatus).toBe('incomplete');
  });

  it('when the learner leaves with exit=suspend and comes back, then the next sitting starts with entry=resume and the saved place, and session times add up', async () => {
    const first = await openRuntime(t, learner, lesson12);
    const a = first.api as Scorm12API;
    a.LMSInitialize('');
    // The sitting before committed and was never closed (cut off): the learner continues it.
    expect(a.LMSGetValue('cmi.core.entry')).toBe('resume');
    expect(a.LMSGetValue('cmi.core.lesson_location')).toBe('page-3');
    a.LMSSetValue('cmi.core.lesson_location', 'page-7');
    a.LMSSetValue('cmi.suspend_data', '{"answers":[1,0,2]}');
    a.LMSSetValue('cmi.core.exit', 'suspend');
    a.LMSSetValue('cmi.core.session_time', '0000:05:30');
    a.LMSFinish('');
    expect((await first.deliver()).map((res) => res.status)).toEqual([200]);

    const second = await openRuntime(t, learner, lesson12);
    const b = second.api as Scorm12API;
    b.LMSInitialize('');
    expect(b.LMSGetValue('cmi.core.entry')).toBe('resume');
    expect(b.LMSGetValue('cmi.core.lesson_location')).toBe('page-7');
    expect(b.LMSGetValue('cmi.suspend_data')).toBe('{"answers":[1,0,2]}');
    expect(b.LMSGetValue('cmi.core.total_time')).toMatch(/^0{2,4}:05:30$/);
    b.LMSSetValue('cmi.core.session_time', '0000:01:00');
    b.LMSSetValue('cmi.core.exit', 'suspend');
    b.LMSFinish('');
    await second.deliver();
    const attempts = await attemptsOf(s.learnerA1.id, lesson12);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]!.totalSeconds).toBe(390);
  });

  it('when a sitting closes normally without suspending, then the next one continues the attempt without entry=resume', async () => {
    const other = await signIn(t.app, s.learnerA2.username);
    const lessonId = await importOk(t, s.teacher, s.place, scorm12Single({ title: 'Left normally' }));
    const first = await openRuntime(t, other, lessonId);
    const a = first.api as Scorm12API;
    a.LMSInitialize('');
    a.LMSSetValue('cmi.core.lesson_location', 'p2');
    a.LMSSetValue('cmi.core.lesson_status', 'incomplete');
    a.LMSFinish('');
    await first.deliver();
    const second = await openRuntime(t, other, lessonId);
    const b = second.api as Scorm12API;
    b.LMSInitialize('');
    expect(b.LMSGetValue('cmi.core.entry')).toBe('');
    // SCORM 1.2 leaves attempts to the LMS: an unfinished one is kept, with its data.
    expect(b.LMSGetValue('cmi.core.lesson_location')).toBe('p2');
  });

  it('when a commit is replayed or arrives after a newer one, then nothing newer is overwritten', async () => {
    const r = await openRuntime(t, learner, lesson12);
    const api = r.api as Scorm12API;
    api.LMSInitialize('');
    api.LMSSetValue('cmi.core.lesson_location', 'older');
    api.LMSCommit('');
    api.LMSSetValue('cmi.core.lesson_location', 'newer');
    api.LMSCommit('');
    const [older, newer] = r.snapshots.splice(0);
    expect((await r.send(newer!)).body.outcome).toBe('applied');
    // The older one, late (a retry that was stuck on a slow network).
    expect((await r.send(older!)).body.outcome).toBe('older');
    // The newer one again (the beacon of a closing page after the fetch got through).
    expect((await r.send(newer!)).body.outcome).toBe('repeated');
    expect((await r.send({ ...newer!, cmi: { core: { lesson_location: 'forged replay' } } })).body.outcome).toBe('repeated');
    const [attempt] = await attemptsOf(s.learnerA1.id, lesson12);
    expect(attempt!.cmi['cmi.core.lesson_location']).toBe('newer');
    const commits = await t.em().find(ScormCommit, { session: r.config.session }, { orderBy: { seq: 'asc' } });
    expect(commits.map((c) => [c.seq, c.applied])).toEqual([
      [older!.seq, false],
      [newer!.seq, true],
    ]);
  });

  it('when a commit left on the phone from an earlier sitting arrives after the new sitting committed, then it is kept out of the attempt', async () => {
    const earlier = await openRuntime(t, learner, lesson12);
    (earlier.api as Scorm12API).LMSInitialize('');
    (earlier.api as Scorm12API).LMSSetValue('cmi.core.lesson_location', 'from the old sitting');
    (earlier.api as Scorm12API).LMSCommit('');
    const stale = earlier.snapshots.splice(0)[0]!;

    const later = await openRuntime(t, learner, lesson12);
    (later.api as Scorm12API).LMSInitialize('');
    (later.api as Scorm12API).LMSSetValue('cmi.core.lesson_location', 'from the new sitting');
    (later.api as Scorm12API).LMSCommit('');
    await later.deliver();
    // Sent with the new sitting's token, naming its own older sitting: accepted as older, not applied.
    expect((await later.send(stale)).body.outcome).toBe('older');
    const [attempt] = await attemptsOf(s.learnerA1.id, lesson12);
    expect(attempt!.cmi['cmi.core.lesson_location']).toBe('from the new sitting');
  });

  it('when the learner passes above the mastery score, then the lesson is complete in the course with its score; below it, it is failed and not complete', async () => {
    const other = await signIn(t.app, s.learnerA2.username);
    const low = await openRuntime(t, other, lesson12);
    const l = low.api as Scorm12API;
    l.LMSInitialize('');
    l.LMSSetValue('cmi.core.score.raw', '70');
    // The SCO says "completed"; the manifest's mastery score makes it "failed".
    l.LMSSetValue('cmi.core.lesson_status', 'completed');
    l.LMSFinish('');
    await low.deliver();
    const [failed] = await attemptsOf(s.learnerA2.id, lesson12);
    expect(failed).toMatchObject({ lessonStatus: 'failed', successStatus: 'failed', scoreRaw: 70, ended: true });
    expect(await progressOf(s.learnerA2.id, lesson12)).toMatchObject({ completedAt: null, bestScore: 70, attempts: 1 });

    const high = await openRuntime(t, other, lesson12);
    const h = high.api as Scorm12API;
    h.LMSInitialize('');
    // A failed attempt is over: the next sitting is a new attempt, from the start.
    expect(h.LMSGetValue('cmi.core.entry')).toBe('ab-initio');
    expect(h.LMSGetValue('cmi.core.lesson_location')).toBe('');
    h.LMSSetValue('cmi.core.score.raw', '90');
    h.LMSSetValue('cmi.core.lesson_status', 'completed');
    h.LMSFinish('');
    await high.deliver();
    const attempts = await attemptsOf(s.learnerA2.id, lesson12);
    expect(attempts.map((a) => [a.number, a.lessonStatus])).toEqual([
      [1, 'failed'],
      [2, 'passed'],
    ]);
    const progress = await progressOf(s.learnerA2.id, lesson12);
    expect(progress!.completedAt).not.toBeNull();
    expect(progress).toMatchObject({ bestScore: 90, attempts: 2 });
    // The learner's lesson page says so too.
    expect((await other.get(`/scorm/lessons/${lesson12}`)).text).toContain('<p class="muted">Passed</p>');
    // Opening it again began a new attempt; until that one records something, the pass is what shows.
    expect((await other.get(`/scorm/lessons/${lesson12}`)).text).toContain('<p class="muted">Passed</p>');
    const report = await s.teacher.get(`/scorm/lessons/${lesson12}/report`);
    expect(report.text).toMatch(new RegExp(`learners/${s.learnerA2.id}"><bdi>[^<]+</bdi></a></td><td>Passed</td><td>90%</td>`));
  });

  it('when the learner goes back to the lesson they passed and the SCO commits mid-sitting, then the commit is kept and the course keeps the lesson done once, with its best score', async () => {
    const other = await signIn(t.app, s.learnerA2.username);
    const before = await progressOf(s.learnerA2.id, lesson12);
    expect(before!.completedAt).not.toBeNull();
    const again = await openRuntime(t, other, lesson12);
    const api = again.api as Scorm12API;
    api.LMSInitialize('');
    api.LMSSetValue('cmi.core.lesson_location', 'review');
    api.LMSCommit('');
    const [answer] = await again.deliver();
    expect(answer!.body).toMatchObject({ result: true, errorCode: 0, outcome: 'applied' });
    const attempts = await attemptsOf(s.learnerA2.id, lesson12);
    expect(attempts.at(-1)!.cmi['cmi.core.lesson_location']).toBe('review');
    const after = await progressOf(s.learnerA2.id, lesson12);
    expect(after).toMatchObject({ bestScore: 90, attempts: 2 });
    expect(after!.completedAt).toEqual(before!.completedAt);
  });
});

describe('SCORM 2004 runtime against the server', () => {
  it('when a multi-SCO package records interactions, objectives and long suspend data, then every part is kept and the lesson completes once every part is done', async () => {
    const items = await t.em().find(ScormItem, { package: { lesson: lesson2004 } }, { orderBy: { position: 'asc' } });
    const [, sco1, sco2] = items;
    const r = await openRuntime(t, learner, lesson2004, sco1!.id);
    const api = r.api as Scorm2004API;
    expect(api.Initialize('')).toBe('true');
    expect(api.GetValue('cmi.entry')).toBe('ab-initio');
    expect(api.GetValue('cmi.completion_threshold')).toBe('0.75');
    expect(api.GetValue('cmi.scaled_passing_score')).toBe('0.6');
    const long = 'x'.repeat(60_000);
    expect(api.SetValue('cmi.suspend_data', long)).toBe('true');
    expect(api.SetValue('cmi.objectives.0.id', 'obj-greet')).toBe('true');
    expect(api.SetValue('cmi.objectives.0.success_status', 'passed')).toBe('true');
    expect(api.SetValue('cmi.interactions.0.id', 'greet-1')).toBe('true');
    expect(api.SetValue('cmi.interactions.0.type', 'choice')).toBe('true');
    expect(api.SetValue('cmi.interactions.0.description', 'How do you say hello?')).toBe('true');
    expect(api.SetValue('cmi.interactions.0.learner_response', 'marhaba')).toBe('true');
    expect(api.SetValue('cmi.interactions.0.correct_responses.0.pattern', 'marhaba')).toBe('true');
    expect(api.SetValue('cmi.interactions.0.result', 'correct')).toBe('true');
    expect(api.SetValue('cmi.interactions.0.timestamp', '2026-11-23T10:00:00')).toBe('true');
    expect(api.SetValue('cmi.progress_measure', '0.8')).toBe('true');
    expect(api.SetValue('cmi.score.scaled', '0.9')).toBe('true');
    expect(api.SetValue('cmi.exit', 'normal')).toBe('true');
    expect(api.SetValue('adl.nav.request', 'continue')).toBe('true');
    expect(api.Terminate('')).toBe('true');
    const answers = await r.deliver();
    expect(answers.map((a) => a.status)).toEqual([200]);

    const [attempt] = await t.em().find(ScormAttempt, { learner: s.learnerA1.id, item: sco1!.id });
    expect(attempt!.cmi['cmi.suspend_data']).toBe(long);
    expect(attempt!.cmi['cmi.objectives.0.id']).toBe('obj-greet');
    expect(attempt!.cmi['cmi.interactions.0.learner_response']).toBe('marhaba');
    // Completion by the threshold (0.8 ≥ 0.75), success by the passing score (0.9 ≥ 0.6).
    expect(attempt).toMatchObject({ completionStatus: 'completed', successStatus: 'passed', scoreScaled: 0.9, ended: true });
    expect((await progressOf(s.learnerA1.id, lesson2004))?.completedAt ?? null).toBeNull();

    const second = await openRuntime(t, learner, lesson2004, sco2!.id);
    const b = second.api as Scorm2004API;
    b.Initialize('');
    expect(b.GetValue('cmi.launch_data')).toBe('start=numbers');
    expect(b.GetValue('cmi.time_limit_action')).toBe('continue,no message');
    b.SetValue('cmi.completion_status', 'completed');
    b.SetValue('cmi.success_status', 'passed');
    b.SetValue('cmi.score.scaled', '0.5');
    b.Terminate('');
    await second.deliver();
    // The glossary is an asset: opening it counts as done.
    await openRuntime(t, learner, lesson2004, items[3]!.id);
    // The last commit that makes the lesson complete: one more sitting on the second part.
    const third = await openRuntime(t, learner, lesson2004, sco2!.id);
    (third.api as Scorm2004API).Initialize('');
    (third.api as Scorm2004API).SetValue('cmi.completion_status', 'completed');
    (third.api as Scorm2004API).SetValue('cmi.score.scaled', '0.7');
    (third.api as Scorm2004API).Terminate('');
    await third.deliver();
    const progress = await progressOf(s.learnerA1.id, lesson2004);
    expect(progress!.completedAt).not.toBeNull();
    expect(progress!.bestScore).toBe(80);
  });

  it('when a 2004 SCO suspends, then it resumes with entry=resume and its location', async () => {
    const other = await signIn(t.app, s.learnerA2.username);
    const items = await t.em().find(ScormItem, { package: { lesson: lesson2004 } }, { orderBy: { position: 'asc' } });
    const r = await openRuntime(t, other, lesson2004, items[1]!.id);
    const api = r.api as Scorm2004API;
    api.Initialize('');
    api.SetValue('cmi.location', 'slide-12');
    api.SetValue('cmi.interactions.0.id', 'count-1');
    api.SetValue('cmi.interactions.0.type', 'numeric');
    api.SetValue('cmi.interactions.0.learner_response', '12');
    api.SetValue('cmi.interactions.0.result', 'correct');
    api.SetValue('cmi.interactions.1.id', 'match-1');
    api.SetValue('cmi.interactions.1.type', 'matching');
    api.SetValue('cmi.interactions.1.correct_responses.0.pattern', 'a[.]1[,]b[.]2');
    api.SetValue('cmi.interactions.1.learner_response', 'a[.]1[,]b[.]3');
    for (let n = 2; n < 12; n++) {
      api.SetValue(`cmi.interactions.${n}.id`, `extra-${n}`);
      api.SetValue(`cmi.interactions.${n}.type`, 'fill-in');
      api.SetValue(`cmi.interactions.${n}.learner_response`, `answer ${n}`);
    }
    api.SetValue('cmi.objectives.0.id', 'numbers');
    api.SetValue('cmi.objectives.0.completion_status', 'incomplete');
    api.SetValue('cmi.exit', 'suspend');
    api.SetValue('cmi.session_time', 'PT2M');
    api.Terminate('');
    await r.deliver();
    const again = await openRuntime(t, other, lesson2004, items[1]!.id);
    const b = again.api as Scorm2004API;
    b.Initialize('');
    expect(b.GetValue('cmi.entry')).toBe('resume');
    expect(b.GetValue('cmi.location')).toBe('slide-12');
    // Interactions and objectives come back as the SCO left them.
    expect(b.GetValue('cmi.interactions._count')).toBe('12');
    expect(b.GetValue('cmi.interactions.11.learner_response')).toBe('answer 11');
    expect(b.GetValue('cmi.interactions.0.learner_response')).toBe('12');
    expect(b.GetValue('cmi.interactions.1.correct_responses.0.pattern')).toBe('a[.]1[,]b[.]2');
    expect(b.GetValue('cmi.interactions.1.learner_response')).toBe('a[.]1[,]b[.]3');
    expect(b.GetValue('cmi.objectives.0.id')).toBe('numbers');
    expect(b.GetValue('cmi.objectives.0.completion_status')).toBe('incomplete');
    expect(b.GetValue('cmi.total_time')).toBe('PT2M');
  });
});

describe('commits the server refuses', () => {
  it('when a value breaks the data model on the wire, then the whole commit is refused with the element named and nothing changes', async () => {
    const r = await openRuntime(t, learner, lesson12);
    (r.api as Scorm12API).LMSInitialize('');
    (r.api as Scorm12API).LMSSetValue('cmi.core.lesson_location', 'should not land');
    (r.api as Scorm12API).LMSCommit('');
    const snapshot = r.snapshots.splice(0)[0]!;
    const cmi = snapshot.cmi as { core: Record<string, unknown> };
    const bad = await r.send({ ...snapshot, cmi: { ...cmi, core: { ...cmi.core, lesson_status: 'finished' } } });
    expect(bad.status).toBe(422);
    expect(bad.body.problems).toEqual([{ element: 'cmi.core.lesson_status', problem: 'type' }]);
    const unknown = await r.send({ ...snapshot, seq: snapshot.seq + 1, cmi: { ...cmi, secret_backdoor: 'x' } });
    expect(unknown.status).toBe(422);
    expect(unknown.body.problems).toEqual([{ element: 'cmi.secret_backdoor', problem: 'unknown' }]);
    const long = await r.send({ ...snapshot, seq: snapshot.seq + 2, cmi: { ...cmi, core: { ...cmi.core, lesson_location: 'x'.repeat(256) } } });
    expect(long.status).toBe(422);
    const [attempt] = await attemptsOf(s.learnerA1.id, lesson12);
    expect(attempt!.cmi['cmi.core.lesson_location']).not.toBe('should not land');
    expect(await t.em().count(ScormCommit, { session: r.config.session })).toBe(0);
  });

  it('when the token is forged, expired, or another learner sends to this sitting, then the commit is refused', async () => {
    const r = await openRuntime(t, learner, lesson12);
    (r.api as Scorm12API).LMSInitialize('');
    (r.api as Scorm12API).LMSCommit('');
    const snapshot = r.snapshots.splice(0)[0]!;
    const [body, sig] = r.config.token.split('.');
    const forged = Buffer.from(JSON.stringify([1, 1, s.learnerA2.id, 4_000_000_000])).toString('base64url');
    expect((await r.send(snapshot, { token: `${forged}.${sig}` })).status).toBe(401);
    expect((await r.send(snapshot, { token: `${body}.${'A'.repeat(43)}` })).status).toBe(401);

    const other = await signIn(t.app, s.learnerA2.username);
    const theirs = await openRuntime(t, other, lesson12);
    // A2's valid token, naming A1's sitting.
    const stolen = await theirs.send({ ...snapshot, session: r.config.session });
    expect(stolen.status).toBe(403);
    expect(await t.em().count(ScormCommit, { session: r.config.session })).toBe(0);
  });

  it('when a page from another origin posts a commit, then the browser is told no', async () => {
    const r = await openRuntime(t, learner, lesson12);
    (r.api as Scorm12API).LMSInitialize('');
    (r.api as Scorm12API).LMSCommit('');
    const res = await request(t.app).post('/scorm/commit').set('Origin', 'https://evil.example').type('text/plain').send(JSON.stringify({ token: r.config.token, ...r.snapshots[0] }));
    expect(res.status).toBe(403);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const garbage = await request(t.app).post('/scorm/commit').set('Origin', t.contentOrigin).type('text/plain').send('{not json');
    expect(garbage.status).toBe(400);
  });
});
