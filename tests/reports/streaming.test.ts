/** The per-learner export of 100,000 learners goes out as it is read: the process's memory stays flat. */
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refreshRollups } from '../../src/reports/index.ts';
import { LEARNER_PAGE } from '../../src/reports/queries/hours.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { csrfFrom } from '../support/agent.ts';
import { PASSWORD, makeCohort, makeCourse, makeProgramme, makeUser, offerCourse } from '../support/factories.ts';

const LEARNERS = 100_000;
/** Long names make the file far larger than the growth allowed below: holding it would show. */
const NAME = 'N'.repeat(110);

let t: TestApp;
let url: string;
let coordinatorName: string;

v8.setFlagsFromString('--expose_gc');
const gc = vm.runInNewContext('gc') as () => void;

beforeAll(async () => {
  t = await bootApp();
  url = (await t.listen()).url;
  const em = t.em();
  const coordinator = await makeUser(em, 'coordinator');
  coordinatorName = coordinator.username;
  const programme = await makeProgramme(em, [coordinator]);
  const cohort = await makeCohort(em, programme);
  const course = await makeCourse(em);
  await offerCourse(em, cohort, course);
  const conn = em.getConnection();
  await conn.execute(
    `INSERT INTO users (username, password_hash, role, display_name, time_zone, created_at, updated_at)
     SELECT 'stream-' || g, 'no-login', 'learner', ? || g, 'UTC', now(), now() FROM generate_series(1, ?) g`,
    [NAME, LEARNERS],
  );
  await conn.execute(`INSERT INTO enrolments (cohort_id, learner_id, status, enrolled_at) SELECT ?, id, 'active', now() - interval '20 days' FROM users WHERE username LIKE 'stream-%'`, [cohort.id]);
  await conn.execute(
    `INSERT INTO study_time (learner_id, lesson_id, course_id, day, seconds)
     SELECT u.id, (SELECT min(id) FROM lessons WHERE course_id = ?), ?, current_date - 3, 1800 FROM users u WHERE u.username LIKE 'stream-%'`,
    [course.id, course.id],
  );
  await conn.execute('ANALYZE users; ANALYZE enrolments; ANALYZE study_time');
  await refreshRollups(em, { wait: true });
}, 120_000);
afterAll(async () => t.close());

/** Signs in over real HTTP and answers the session cookie. */
async function signInOverHttp(username: string): Promise<string> {
  const form = await fetch(`${url}/login`);
  let cookie = form.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const res = await fetch(`${url}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrfFrom(await form.text()), login: username, password: PASSWORD }),
  });
  expect(res.status).toBe(303);
  const jar = new Map(cookie.split('; ').map((c) => [c.split('=')[0]!, c]));
  for (const c of res.headers.getSetCookie()) jar.set(c.split('=')[0]!, c.split(';')[0]!);
  cookie = [...jar.values()].join('; ');
  return cookie;
}

describe('streamed CSV', () => {
  it('when 100,000 learners are exported, then every row arrives and the heap grows by far less than the file', async () => {
    const cookie = await signInOverHttp(coordinatorName);
    gc();
    const baseline = process.memoryUsage().heapUsed;
    let peak = 0;
    let bytes = 0;
    let lines = 0;
    let chunks = 0;
    const res = await fetch(`${url}/reports/hours/learners.csv`, { headers: { cookie } });
    expect(res.status).toBe(200);
    // Streamed, not measured out in advance.
    expect(res.headers.get('content-length')).toBeNull();
    const reader = res.body!.getReader();
    const newline = 10;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      for (const b of value) if (b === newline) lines++;
      if (++chunks % 100 === 0) {
        gc();
        peak = Math.max(peak, process.memoryUsage().heapUsed - baseline);
      }
    }
    expect(lines).toBe(LEARNERS + 1);
    expect(bytes).toBeGreaterThan(LEARNERS * NAME.length);
    const MB = 1024 * 1024;
    // The file is over 11 MB; reading it page by page (LEARNER_PAGE learners) keeps the heap within a few.
    expect(LEARNER_PAGE).toBeLessThanOrEqual(5000);
    console.log(`export: ${(bytes / MB).toFixed(1)} MB, heap growth at most ${(peak / MB).toFixed(1)} MB`);
    expect(peak / MB).toBeLessThan(6);
  }, 120_000);
});
