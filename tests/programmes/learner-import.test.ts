import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, type Agent } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeSchool, makeUser } from '../support/factories.ts';
import { User } from '../../src/accounts/index.ts';
import { Enrolment } from '../../src/programmes/index.ts';

let t: TestApp;
let s: Awaited<ReturnType<typeof makeSchool>>;
let coordinator: Agent;
beforeAll(async () => {
  t = await bootApp();
  s = await makeSchool(t.em());
  coordinator = await signIn(t.app, s.coordinatorA.username);
});
afterAll(() => t.close());

const upload = (csv: string, cohortId = s.cohortA.id) =>
  coordinator.post(`/cohorts/${cohortId}/import?_csrf=${coordinator.csrf}`).attach('file', Buffer.from(csv), { filename: 'learners.csv', contentType: 'text/csv' });

describe('importing learners from a CSV file', () => {
  it('when some rows are wrong, then nothing is imported and every problem is listed with its row', async () => {
    const staff = await makeUser(t.em(), 'teacher', { username: 'staff.member' });
    const csv = [
      'username,display_name,phone,sex,birth_year,nationality,legal_status,disability',
      'hassan.ali,Hassan Ali,+30 691 111 2222,male,1995,SY,refugee,no',
      'x,Too Short,,,,,,',
      'fatima.n,Fatima N,12345,female,1890,AF,refugee,maybe',
      'hassan.ali,Hassan Again,,,,,,',
      `${staff.username},Staff,,,,,,`,
      'mariam.k,,,,,,alien,',
    ].join('\n');
    const before = await t.em().count(User, {});
    const res = await upload(csv);
    expect(res.status).toBe(422);
    expect(res.text).toContain('Nothing was imported');
    const rows = [...res.text.matchAll(/<tr><td>(\d+)<\/td><td class="code">(\w+)<\/td><td>([^<]+)<\/td><\/tr>/g)].map((m) => `${m[1]} ${m[2]}: ${m[3]}`);
    expect(rows).toEqual([
      '3 username: Use 3 to 32 characters: small letters, digits, dot, dash or underscore, starting with a letter or digit.',
      '4 phone: This is not a valid phone number. Start with + and the country code, for example +30 691 234 5678.',
      '4 birth_year: The smallest allowed value is 1900.',
      '4 disability: Please write yes or no.',
      '5 username: This username is also used in row 2.',
      '6 username: This username belongs to a staff account, not a learner.',
      '7 display_name: Please fill this in.',
      '7 legal_status: Please choose one of the options.',
    ]);
    expect(await t.em().count(User, {})).toBe(before);
  });

  it('when every row is right, then learners are created with one-time passwords and enrolled, existing learners enrolled as they are', async () => {
    const csv = 'username,display_name,phone,language,nationality\r\nomid.r,Omid Rahimi,+93 70 123 4567,fa,af\r\n' + `${s.learnerB1.username},Somebody,,,\r\n`;
    const res = await upload(csv);
    expect(res.status).toBe(200);
    expect(res.text).toContain('Done: 1 new learners and 1 existing learners');
    const omid = await t.em().findOneOrFail(User, { username: 'omid.r' }) as { id: number; phone: string; nationality: string; mustChangePassword: boolean; language: string };
    expect(omid.phone).toBe('+93701234567');
    expect(omid.nationality).toBe('AF');
    expect(omid.mustChangePassword).toBe(true);
    expect(await t.em().count(Enrolment, { cohort: s.cohortA.id, learner: { $in: [omid.id, s.learnerB1.id] } })).toBe(2);
  });

  it('when the file is not CSV or has unknown columns, then it says so and imports nothing', async () => {
    const unknown = await upload('username,display_name,email\nabc.d,ABC,a@b.c\n');
    expect(unknown.status).toBe(422);
    expect(unknown.text).toContain('The column email is not one Dars knows');
    const broken = await upload('username,display_name\n"abc.d,ABC\n');
    expect(broken.text).toContain('could not be read as CSV');
    const empty = await coordinator.post(`/cohorts/${s.cohortA.id}/import?_csrf=${coordinator.csrf}`).field('x', '1');
    expect(empty.status).toBe(422);
    expect(empty.text).toContain('Please choose a CSV file');
  });

  it('when the file is larger than allowed, then a 413 page explains it', async () => {
    const big = 'username,display_name\n' + 'a'.repeat(1100 * 1024);
    const res = await upload(big);
    expect(res.status).toBe(413);
    expect(res.text).toContain('The file is too large');
  });

  it("when a coordinator imports into another programme's class, then it is 404", async () => {
    const res = await upload('username,display_name\nsneaky.one,Sneaky\n', s.cohortB.id);
    expect(res.status).toBe(404);
    expect(await t.em().count(User, { username: 'sneaky.one' })).toBe(0);
  });
});
