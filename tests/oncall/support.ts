/** Shared steps of the on-call tests: a school with a lesson offered to cohort A, and asking about it. */
import type { EntityManager } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import { Lesson } from '../../src/courses/index.ts';
import type { Agent } from '../support/agent.ts';
import { makeCourse, makeSchool, offerCourse } from '../support/factories.ts';

export async function schoolWithLesson(em: EntityManager) {
  const school = await makeSchool(em);
  const course = await makeCourse(em, { title: 'Greek A1' });
  await offerCourse(em, school.cohortA, course);
  const courseB = await makeCourse(em, { title: 'English B' });
  await offerCourse(em, school.cohortB, courseB);
  const lesson = await em.findOneOrFail(Lesson, { course: course.id, position: 1 });
  const lessonB = await em.findOneOrFail(Lesson, { course: courseB.id, position: 1 });
  return { ...school, course, lesson, lessonB };
}

/**
 * Sends the ask form as a browser does: multipart, with the CSRF token in the action URL and the
 * idempotency key a freshly drawn form carries (give `requestId` to send the same form again).
 */
export function ask(agent: Agent, kind: 'lesson' | 'assignment', id: number, fields: Record<string, string>, files: { buffer: Buffer; name: string }[] = []) {
  let req = agent.post(`/ask/${kind}/${id}?_csrf=${agent.csrf}`);
  for (const [k, v] of Object.entries({ requestId: randomUUID(), ...fields })) req = req.field(k, v);
  for (const f of files) req = req.attach('attachment', f.buffer, f.name);
  return req;
}

export function reply(agent: Agent, threadId: number, fields: Record<string, string>, files: { buffer: Buffer; name: string }[] = []) {
  let req = agent.post(`/questions/${threadId}/messages?_csrf=${agent.csrf}`);
  for (const [k, v] of Object.entries({ requestId: randomUUID(), ...fields })) req = req.field(k, v);
  for (const f of files) req = req.attach('attachment', f.buffer, f.name);
  return req;
}

export function threadIdFrom(location: string | undefined): number {
  const m = /^\/questions\/(\d+)/.exec(location ?? '');
  if (!m) throw new Error(`not a thread address: ${location}`);
  return Number(m[1]);
}

/** Page text without the Unicode isolates the `t` helper puts around names (for right-to-left pages). */
export function plain(res: { text: string }): string {
  return res.text.replace(/[\u2068\u2069]/g, '');
}
