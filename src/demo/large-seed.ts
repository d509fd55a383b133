/**
 * A realistic programme at scale, for measuring reports and pages on data of a real size: by
 * default 100,000 learners in 50 cohorts over five sites, five courses, about 5,000,000 lesson
 * progress records with their study time and quiz attempts, 300,000 graded submissions and a
 * year of data allowances with their ledger and the data learners used.
 *
 * Everything is written by PostgreSQL itself (INSERT … SELECT over generate_series and over what
 * was written before), so nothing crosses the wire row by row; every constraint, foreign key and
 * trigger stays on. The append-only allowance ledger only ever receives INSERTs. Every account
 * shares one password hash, computed once.
 *
 * The figures scale with the number of learners: `learners: 10_000` writes a tenth of each.
 */
import type pg from 'pg';

export interface LargeSeedOptions {
  learners: number;
  /** One argon2 hash shared by every account made here. */
  passwordHash: string;
  /** Called after each piece of work with the rows written so far and the rows expected in all. */
  onProgress?: (done: number, total: number, step: string) => void;
  now?: Date;
}

export interface LargeSeedSummary {
  programme: string;
  usernamePrefix: string;
  rows: Record<string, number>;
  seconds: number;
}

const COHORTS = 50;
const SITES = ['Athens — Victoria Square', 'Athens — Kypseli', 'Thessaloniki', 'Ioannina', 'Lesvos — Mytilene'];
/** Lessons a learner has touched, on average: 5,000,000 records for 100,000 learners. */
const MEAN_LESSONS = 50;
/** Assignments each cohort is set over the year; three in four are handed in: 3 per learner. */
const ASSIGNMENTS_PER_COHORT = 4;
const HAND_IN_SHARE = 0.75;
const CHUNKS = 20;

/** The two courses written here beside the three shipped ones (courses/), so there are five. */
const GENERATED_COURSES = [
  { slug: 'seed-greek-a2', title: 'Greek A2: everyday life', language: 'el', subject: 'language', level: 'A2', units: 6, hours: 60 },
  { slug: 'seed-digital-skills', title: 'Digital skills for work', language: 'en', subject: 'soft-skills', level: 'beginner', units: 4, hours: 30 },
] as const;
const LESSONS_PER_UNIT = 10;
const SHIPPED_ORDER = { language: ['greek-a1', 'seed-greek-a2', 'english-everyday', 'soft-skills-work', 'seed-digital-skills'], skills: ['soft-skills-work', 'seed-digital-skills', 'greek-a1', 'seed-greek-a2', 'english-everyday'] };

/** Learners already in the database who are not the demo school's: a large seed refuses to mix with real ones. */
export async function otherLearners(client: pg.ClientBase, demoUsernames: readonly string[]): Promise<number> {
  const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM users WHERE role = 'learner' AND NOT (username = ANY($1))`, [demoUsernames]);
  return Number(rows[0]!.n);
}

export async function seedLarge(client: pg.ClientBase, opts: LargeSeedOptions): Promise<LargeSeedSummary> {
  const started = Date.now();
  const n = opts.learners;
  const now = opts.now ?? new Date();
  const expected = expectedRows(n);
  const total = Object.values(expected).reduce((a, b) => a + b, 0);
  const rows: Record<string, number> = {};
  let done = 0;
  const tick = (step: string, table: string, count: number) => {
    rows[table] = (rows[table] ?? 0) + count;
    done += count;
    opts.onProgress?.(Math.min(done, total), total, step);
  };
  const q = async (sql: string, params: unknown[] = []) => (await client.query(sql, params)).rowCount ?? 0;

  // A bulk load: a crash loses at most the last moments of it, and the seed is simply run again.
  await q(`SET synchronous_commit = off`);
  await q(`SET work_mem = '64MB'`);
  await q(`SET maintenance_work_mem = '256MB'`);

  const { prefix, programmeName } = await nextRun(client);
  opts.onProgress?.(0, total, 'programme');
  // Session-long working tables: the clock of the run, then the learners and the lesson order.
  await q(`DROP TABLE IF EXISTS seed_run, seed_learners, seed_sequence, seed_lessons, seed_course_lessons, seed_assignments`);
  await q(`CREATE TEMP TABLE seed_run AS SELECT $1::timestamptz AS now, (date_trunc('month', $1::timestamptz AT TIME ZONE 'Europe/Athens') - interval '11 months') AT TIME ZONE 'Europe/Athens' AS start`, [now]);
  let cohortIds: number[] = [];
  let coordinator = 0;
  // One transaction: a seed that fails half-way leaves nothing behind.
  await q('BEGIN');
  try {
    const references = await suspendReferenceChecks(client);

    // --- Staff, programme, sites, cohorts ------------------------------------------------------
    const staff = await client.query<{ id: number; role: string }>(
      `INSERT INTO users (username, password_hash, must_change_password, role, display_name, time_zone, created_at, updated_at)
       SELECT $1 || '-' || r.role || '-' || i, $2, false, r.role, r.names[1 + (i - 1) % array_length(r.names, 1)] || ' ' || (ARRAY['Papadopoulou','Nikolaou','Georgiou','Dimitriou','Ioannou','Karagianni','Vasileiou','Konstantinou'])[1 + (i * 7) % 8],
              'Europe/Athens', c.start, c.start
       FROM seed_run c, (VALUES ('coordinator', 2, ARRAY['Maria','Yannis']), ('teacher', ${COHORTS / 2}, ARRAY['Eleni','Kostas','Sofia','Dimitris','Katerina','Giorgos','Anna','Nikos'])) AS r(role, k, names),
            generate_series(1, r.k) AS i
       ORDER BY r.role DESC, i
       RETURNING id, role`,
      [prefix, opts.passwordHash],
    );
    const coordinators = staff.rows.filter((r) => r.role === 'coordinator').map((r) => r.id);
    const teachers = staff.rows.filter((r) => r.role === 'teacher').map((r) => r.id);
    coordinator = coordinators[0]!;
    tick('staff', 'users', staff.rowCount ?? 0);

    const { rows: [programme] } = await client.query<{ id: number }>(
      `INSERT INTO programmes (name, description, created_at) SELECT $1, 'Greek language and soft skills for beneficiaries of international protection, across five sites.', start FROM seed_run RETURNING id`,
      [programmeName],
    );
    await q(`INSERT INTO programme_coordinators (programme_id, user_id) SELECT $1, unnest($2::int[])`, [programme!.id, coordinators]);
    const sites = await client.query<{ id: number }>(`INSERT INTO sites (programme_id, name, created_at) SELECT $1, unnest($2::text[]), start FROM seed_run RETURNING id`, [programme!.id, SITES]);
    const siteIds = sites.rows.map((r) => r.id);
    // Cohort i: its site, its track (language first or soft skills first), its teacher (each teaches two cohorts).
    const cohorts = await client.query<{ id: number }>(
      `INSERT INTO cohorts (programme_id, site_id, name, enrolment_code, created_at)
       SELECT $1, ($2::int[])[1 + (i - 1) % array_length($2::int[], 1)],
              (CASE WHEN i % 2 = 1 THEN 'Greek and work' ELSE 'Work and Greek' END) || ' — group ' || i,
              upper(substr(md5(random()::text || i), 1, 10)), start
       FROM seed_run, generate_series(1, ${COHORTS}) AS i ORDER BY i RETURNING id`,
      [programme!.id, siteIds],
    );
    cohortIds = cohorts.rows.map((r) => r.id);
    await q(`INSERT INTO cohort_teachers (cohort_id, user_id) SELECT c, ($2::int[])[1 + (o::int - 1) % array_length($2::int[], 1)] FROM unnest($1::int[]) WITH ORDINALITY AS x(c, o)`, [cohortIds, teachers]);
    tick('programme', 'cohorts', cohortIds.length);

    // --- Courses: the three shipped ones and two generated, offered to every cohort ------------
    await generateCourses(client);
    const { rows: courseRows } = await client.query<{ id: number; slug: string }>(`SELECT id, slug FROM courses WHERE slug = ANY($1)`, [SHIPPED_ORDER.language]);
    if (courseRows.length !== SHIPPED_ORDER.language.length) {
      const missing = SHIPPED_ORDER.language.filter((s) => !courseRows.some((r) => r.slug === s));
      throw new Error(`The shipped courses are not imported (${missing.join(', ')}): run "npm run courses:import" first.`);
    }
    await q(`INSERT INTO cohort_courses (cohort_id, course_id, offered_by_id, offered_at) SELECT c, co.id, $3, s.start FROM unnest($1::int[]) AS c, courses co, seed_run s WHERE co.slug = ANY($2)`, [cohortIds, SHIPPED_ORDER.language, coordinator]);
    // The order each track studies the lessons in: seq 1, 2, 3 … across its five courses.
    await q(
      `CREATE TEMP TABLE seed_sequence AS
       SELECT t.track, row_number() OVER (PARTITION BY t.track ORDER BY t.o, l.position)::int AS seq, l.id AS lesson_id, l.course_id, l.minutes,
              l.type = 'quiz' AS is_quiz, coalesce((l.quiz->>'passScore')::int, 60) AS pass_score,
              coalesce((SELECT jsonb_agg(jsonb_build_object('id', qq->>'id', 'correct', true, 'given', '[]'::jsonb)) FROM jsonb_array_elements(l.quiz->'questions') qq), '[]') AS right_answers,
              coalesce((SELECT jsonb_agg(jsonb_build_object('id', qq->>'id', 'correct', k > 1, 'given', '[]'::jsonb)) FROM jsonb_array_elements(l.quiz->'questions') WITH ORDINALITY AS x(qq, k)), '[]') AS one_wrong
       FROM (SELECT 0 AS track, s, o FROM unnest($1::text[]) WITH ORDINALITY AS a(s, o) UNION ALL SELECT 1, s, o FROM unnest($2::text[]) WITH ORDINALITY AS b(s, o)) t
       JOIN courses c ON c.slug = t.s JOIN lessons l ON l.course_id = c.id AND NOT l.retired AND l.type <> 'scorm'`,
      [SHIPPED_ORDER.language, SHIPPED_ORDER.skills],
    );
    await q(`CREATE INDEX ON seed_sequence (track, seq)`);
    await q(`ANALYZE seed_sequence`);
    const lessons = Number((await client.query<{ n: number }>(`SELECT max(seq) AS n FROM seed_sequence`)).rows[0]!.n);

    // --- Learners, with the profile facts reports break down by (some not stated) -------------
    await q(
      `CREATE TEMP TABLE seed_learners AS
       SELECT g.n, NULL::int AS user_id, $1 || '-learner-' || g.n AS username,
              ($2::int[])[1 + (g.n - 1) % ${COHORTS}] AS cohort_id, ((g.n - 1) % ${COHORTS}) % 2 AS track,
              e.enrolled_at, e.r_status, e.r_active, least(floor(random() * ${2 * MEAN_LESSONS + 1})::int, $3::int) AS k, random() < 0.5 AS last_open
       FROM generate_series(1, $4::int) AS g(n), seed_run c,
            LATERAL (SELECT c.start + (c.now - c.start) * power(random(), 1.15) AS enrolled_at, random() AS r_status, random() AS r_active, g.n AS m) e`,
      [prefix, cohortIds, lessons, n],
    );
    await q(
      `ALTER TABLE seed_learners ADD COLUMN status text, ADD COLUMN withdrawn_at timestamptz, ADD COLUMN last_active timestamptz`,
    );
    // Eight in a hundred withdrew, five finished; the others are active, most of them lately.
    await q(
      `UPDATE seed_learners s SET
         status = CASE WHEN r_status < 0.08 THEN 'withdrawn' WHEN r_status < 0.13 THEN 'completed' ELSE 'active' END,
         withdrawn_at = CASE WHEN r_status < 0.08 THEN enrolled_at + (c.now - enrolled_at) * (0.2 + 0.7 * r_active) END,
         last_active = CASE WHEN r_status < 0.08 THEN enrolled_at + (c.now - enrolled_at) * (0.2 + 0.7 * r_active)
                            ELSE greatest(enrolled_at + interval '1 hour', c.now - power(r_active, 2) * interval '90 days') END
       FROM seed_run c`,
    );
    await q(
      `INSERT INTO users (username, phone, password_hash, must_change_password, role, display_name, language, time_zone, sex, birth_year, nationality, legal_status, disability, created_by_id, created_at, updated_at)
       SELECT s.username,
              CASE WHEN h % 20 = 7 THEN NULL ELSE '+30694' || lpad(s.n::text, 7, '0') END,
              $1, false, 'learner',
              (ARRAY['Amina','Reza','Fatima','Omar','Zahra','Ahmad','Mariam','Yusuf','Layla','Hassan','Nour','Ali','Sara','Karim','Hawa','Jean','Olena','Dmytro','Aisha','Farid'])[1 + h % 20] || ' ' ||
              (ARRAY['Yusuf','Ahmadi','Haidari','Khalil','Mohammadi','Nazari','Rahimi','Saleh','Osman','Mbeki','Kovalenko','Hussaini','Abdi','Karimi','Jaber','Qasemi'])[1 + (h / 20) % 16],
              (ARRAY[NULL,'ar','fa','ps','ar','fr','uk','en','el','fa'])[1 + (h / 7) % 10],
              'Europe/Athens',
              CASE WHEN h % 100 < 51 THEN 'female' WHEN h % 100 < 95 THEN 'male' WHEN h % 100 < 96 THEN 'other' END,
              CASE WHEN (h / 100) % 25 = 3 THEN NULL ELSE 2010 - (power(((h / 13) % 1000) / 1000.0, 1.6) * 52)::int END,
              CASE WHEN (h / 3) % 20 = 0 THEN NULL ELSE (ARRAY['SY','AF','AF','IQ','SY','CD','PS','SO','ER','IR','PK','SY','AF','UA','CM','SY','IQ','AF','SD','YE'])[1 + (h / 3) % 20] END,
              (ARRAY['refugee','refugee','refugee','asylum_seeker','asylum_seeker','international_protection','refugee','asylum_seeker','migrant','host_community','other',NULL,'refugee','asylum_seeker','international_protection','refugee'])[1 + (h / 11) % 16],
              CASE WHEN (h / 17) % 100 < 7 THEN true WHEN (h / 17) % 100 < 88 THEN false END,
              $2, s.enrolled_at, s.enrolled_at
       FROM (SELECT s.*, (abs(hashint4(s.n * 7919 + 17)))::bigint AS h FROM seed_learners s) s ORDER BY s.n`,
      [opts.passwordHash, coordinator],
    );
    await q(`UPDATE seed_learners s SET user_id = u.id FROM users u WHERE u.username = s.username`);
    await q(`CREATE UNIQUE INDEX ON seed_learners (n)`);
    await q(`CREATE UNIQUE INDEX ON seed_learners (user_id)`);
    await q(`ANALYZE seed_learners`);
    tick('learners', 'users', n);
    await q(
      `INSERT INTO enrolments (cohort_id, learner_id, status, enrolled_at, withdrawn_at) SELECT cohort_id, user_id, status, enrolled_at, withdrawn_at FROM seed_learners ORDER BY n`,
    );
    tick('enrolments', 'enrolments', n);
    // The rest goes in chunks of learners, so that the progress bar moves.

    const chunk = Math.ceil(n / CHUNKS);
    // Per lesson, what the chunks need: its pass mark and the answers of a passed or failed attempt.
    await q(`CREATE TEMP TABLE seed_lessons AS SELECT DISTINCT ON (lesson_id) lesson_id, pass_score, right_answers, one_wrong FROM seed_sequence`);
    await q(`CREATE UNIQUE INDEX ON seed_lessons (lesson_id)`);
    await q(`CREATE TEMP TABLE seed_course_lessons AS SELECT course_id, count(*)::int AS lessons FROM lessons WHERE NOT retired AND type <> 'scorm' GROUP BY course_id`);
    for (let from = 1; from <= n; from += chunk) {
      const to = Math.min(n, from + chunk - 1);
      // One statement per chunk: the progress records are written once and everything that follows
      // from them (study time, quiz attempts, completed courses, data used) is read from what the
      // INSERT returned, never from the growing tables.
      // Lessons go in order along the cohort's track, three lessons a sitting, sittings spread from
      // enrolment to the learner's last activity; the last lesson is sometimes still open.
      const { rows: [counts] } = await client.query<Record<'progress' | 'study' | 'quiz' | 'finished' | 'usage', string>>(
        `WITH p AS (
           INSERT INTO lesson_progress (learner_id, lesson_id, course_id, started_at, completed_at, best_score, attempts, seconds_spent, visit_started_at, last_visited_at)
           SELECT user_id, lesson_id, course_id, started, CASE WHEN open THEN NULL ELSE started + make_interval(secs => secs) END,
                  CASE WHEN is_quiz THEN score END, CASE WHEN is_quiz THEN tries ELSE 0 END, secs, NULL, started + make_interval(secs => secs)
           FROM (
             SELECT s.user_id, q.lesson_id, q.course_id, q.is_quiz, q.seq = s.k AND s.last_open AS open,
                    s.enrolled_at + (s.last_active - s.enrolled_at) * (((q.seq - 1) / 3) * 3)::float8 / greatest(s.k, 1) + (q.seq - 1) % 3 * interval '25 minutes' AS started,
                    (q.minutes * 60 * (0.6 + random()))::int AS secs, 40 + floor(random() * 61)::int AS score, 1 + (random() < 0.3)::int AS tries
             FROM seed_learners s JOIN seed_sequence q ON q.track = s.track AND q.seq <= s.k
             WHERE s.n BETWEEN $1 AND $2
           ) x
           RETURNING id, learner_id, lesson_id, course_id, started_at, completed_at, best_score, attempts, seconds_spent),
         st AS (
           INSERT INTO study_time (learner_id, lesson_id, course_id, day, seconds)
           SELECT learner_id, lesson_id, course_id, (started_at AT TIME ZONE 'UTC')::date, seconds_spent FROM p RETURNING 1),
         -- One attempt per quiz, or two when the first went less well; the best is on the progress record.
         qa AS (
           INSERT INTO quiz_attempts (learner_id, lesson_id, idempotency_key, score, passed, results, submitted_at)
           SELECT p.learner_id, p.lesson_id, 'seed-' || p.id || '-' || a.n, a.sc, a.sc >= l.pass_score, CASE WHEN a.sc >= l.pass_score THEN l.right_answers ELSE l.one_wrong END,
                  p.started_at + a.n * interval '6 minutes'
           FROM p JOIN seed_lessons l ON l.lesson_id = p.lesson_id,
                LATERAL (SELECT g AS n, CASE WHEN g < p.attempts THEN greatest(0, p.best_score - 20) ELSE p.best_score END AS sc FROM generate_series(1, p.attempts) g) a
           WHERE p.attempts > 0 RETURNING 1),
         cc AS (
           INSERT INTO course_completions (learner_id, course_id, completed_at)
           SELECT p.learner_id, p.course_id, max(p.completed_at) FROM p JOIN seed_course_lessons c ON c.course_id = p.course_id
           GROUP BY p.learner_id, p.course_id, c.lessons HAVING count(p.completed_at) = c.lessons RETURNING 1),
         -- What the phone used on each day of study: the pages, and the audio and video of the lessons.
         du AS (
           INSERT INTO data_usage (learner_id, day, bytes)
           SELECT learner_id, (started_at AT TIME ZONE 'UTC')::date, sum(40000 + (random() * 900000)::int) FROM p GROUP BY 1, 2 RETURNING 1)
         SELECT (SELECT count(*) FROM p) AS progress, (SELECT count(*) FROM st) AS study, (SELECT count(*) FROM qa) AS quiz,
                (SELECT count(*) FROM cc) AS finished, (SELECT count(*) FROM du) AS usage`,
        [from, to],
      );
      tick('lesson progress', 'lesson_progress', Number(counts!.progress));
      tick('study time', 'study_time', Number(counts!.study));
      tick('quiz attempts', 'quiz_attempts', Number(counts!.quiz));
      tick('course completions', 'course_completions', Number(counts!.finished));
      tick('data used', 'data_usage', Number(counts!.usage));
    }

    // --- Assignments: four per cohort through the year, three in four handed in, most graded -----
    await q(
      `CREATE TEMP TABLE seed_assignments AS
       SELECT nextval('assignments_id_seq')::int AS id, c.cohort_id, c.teacher_id, a.k,
              CASE WHEN a.k < ${ASSIGNMENTS_PER_COHORT - 1} THEN r.start + (a.k * 3 + 1) * interval '1 month' ELSE r.now - interval '9 days' END AS opens_at
       FROM (SELECT cohort_id, min(user_id) AS teacher_id FROM cohort_teachers WHERE cohort_id = ANY($1) GROUP BY cohort_id) c,
            generate_series(0, ${ASSIGNMENTS_PER_COHORT - 1}) AS a(k), seed_run r
       ORDER BY c.cohort_id, a.k`,
      [cohortIds],
    );
    await q(`ALTER TABLE seed_assignments ADD COLUMN due_at timestamptz`);
    await q(`UPDATE seed_assignments SET due_at = opens_at + interval '14 days'`);
    await q(`ANALYZE seed_assignments`);
    const assignments = await q(
      `INSERT INTO assignments (id, title, instructions, instructions_html, created_by_id, unit_id, opens_at, due_at, cutoff_at, forms, max_files, max_file_mb, max_points, rubric, resubmission_allowed, created_at, updated_at)
       SELECT a.id, ($1::text[])[1 + a.k], 'Write a few sentences, or send a photo of your page or a voice note.',
              '<p>Write a few sentences, or send a photo of your page or a voice note.</p>',
              a.teacher_id, NULL, a.opens_at, a.due_at, NULL, '["text","photo","audio"]'::jsonb, 3, 10, 20, NULL, false, a.opens_at - interval '2 days', a.opens_at - interval '2 days'
       FROM seed_assignments a ORDER BY a.id`,
      [['Introduce yourself in Greek', 'My neighbourhood: a short description', 'A CV for the job you want', 'Role play: at the pharmacy']],
    );
    await q(`INSERT INTO assignment_cohorts (assignment_id, cohort_id) SELECT id, cohort_id FROM seed_assignments`);
    tick('assignments', 'assignments', assignments);

    for (let from = 1; from <= n; from += chunk) {
      const to = Math.min(n, from + chunk - 1);
      // Older work is nearly all graded; the newest assignment is still in the teachers' queues.
      const { rows: [counts] } = await client.query<Record<'submissions' | 'versions' | 'grades', string>>(
        `WITH sub AS (
           INSERT INTO submissions (assignment_id, learner_id, cohort_id, status, draft_text, submitted_version, last_submitted_at, revision, created_at, updated_at)
           SELECT a.id, s.user_id, s.cohort_id, 'submitted', '', 1, t.at, 2, t.at - interval '20 minutes', t.at
           FROM seed_learners s JOIN seed_assignments a ON a.cohort_id = s.cohort_id, seed_run c,
                LATERAL (SELECT least(c.now - interval '1 hour', greatest(a.opens_at, s.enrolled_at) + random() * interval '20 days') AS at, random() AS r) t
           WHERE s.n BETWEEN $1 AND $2 AND t.r < ${HAND_IN_SHARE}
           RETURNING id, assignment_id, learner_id, last_submitted_at),
         v AS (
           INSERT INTO submission_versions (submission_id, number, text, submitted_at, due_at, late_seconds)
           SELECT sub.id, 1, 'Γεια σας. Με λένε ' || split_part(u.display_name, ' ', 1) || '. Μένω στην Αθήνα και μαθαίνω ελληνικά.', sub.last_submitted_at, a.due_at,
                  greatest(0, extract(epoch FROM sub.last_submitted_at - a.due_at))::int
           FROM sub JOIN seed_assignments a ON a.id = sub.assignment_id JOIN users u ON u.id = sub.learner_id RETURNING 1),
         g AS (
           INSERT INTO grades (submission_id, version_number, score, rubric_levels, feedback, graded_by_id, graded_at, released_at, revision)
           SELECT sub.id, 1, 8 + floor(random() * 13)::int, NULL, 'Good work. Check the endings of the verbs.', a.teacher_id, t.at, t.at, 1
           FROM sub JOIN seed_assignments a ON a.id = sub.assignment_id, seed_run c,
                LATERAL (SELECT least(c.now - interval '10 minutes', sub.last_submitted_at + random() * interval '6 days') AS at, random() AS r) t
           WHERE t.r < CASE WHEN a.k = ${ASSIGNMENTS_PER_COHORT - 1} THEN 0.3 ELSE 0.97 END
           RETURNING submission_id, score, feedback, graded_by_id, graded_at),
         gc AS (
           INSERT INTO grade_changes (submission_id, action, changed_by_id, changed_at, old_value, new_value)
           SELECT submission_id, 'save', graded_by_id, graded_at, NULL,
                  jsonb_build_object('versionNumber', 1, 'score', score, 'rubricLevels', NULL, 'feedback', feedback, 'released', true)
           FROM g RETURNING 1)
         SELECT (SELECT count(*) FROM sub) AS submissions, (SELECT count(*) FROM v) AS versions, (SELECT count(*) FROM gc) AS grades`,
        [from, to],
      );
      tick('submissions', 'submissions', Number(counts!.submissions));
      tick('submission versions', 'submission_versions', Number(counts!.versions));
      tick('grades', 'grades', Number(counts!.grades));
    }

    // --- A year of monthly data allowances: batches, allowances and their ledger ------------------
    await seedAllowances(client, prefix, coordinator, (count) => tick('allowances', 'allowance_issues', count), (count) => tick('allowance ledger', 'allowance_ledger', count));

    opts.onProgress?.(done, done, 'checking references');
    await references.restore();
    await q('COMMIT');
  } catch (err) {
    await q('ROLLBACK');
    throw err;
  }
  opts.onProgress?.(done, done, 'statistics');
  for (const table of ['users', 'enrolments', 'lesson_progress', 'study_time', 'quiz_attempts', 'course_completions', 'data_usage', 'assignments', 'submissions', 'submission_versions', 'grades', 'grade_changes', 'allowance_issues', 'allowance_ledger']) {
    await q(`ANALYZE ${table}`);
  }
  await q(`DROP TABLE IF EXISTS seed_learners, seed_sequence, seed_lessons, seed_course_lessons, seed_assignments, seed_run`);
  return { programme: programmeName, usernamePrefix: prefix, rows, seconds: (Date.now() - started) / 1000 };
}

/** Rows each table receives for `n` learners: what the progress bar counts towards. */
export function expectedRows(n: number): Record<string, number> {
  const progress = n * MEAN_LESSONS;
  const submissions = Math.round(n * ASSIGNMENTS_PER_COHORT * HAND_IN_SHARE);
  return {
    users: n + COHORTS / 2 + 2,
    enrolments: n,
    lesson_progress: progress,
    study_time: progress,
    quiz_attempts: Math.round(progress * 0.16),
    data_usage: Math.round(progress * 0.32),
    submissions,
    submission_versions: submissions,
    grades: Math.round(submissions * 0.8),
    allowance_issues: Math.round(n * 3.5),
    allowance_ledger: Math.round(n * 10.2),
  };
}

/** A second seed (with --force) sits beside the first: its own programme name and usernames. */
async function nextRun(client: pg.ClientBase) {
  const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM programmes WHERE name = 'HELIOS Greece' OR name LIKE 'HELIOS Greece (run %)'`);
  const run = Number(rows[0]!.n) + 1;
  return { run, prefix: run === 1 ? 'helios' : `helios${run}`, programmeName: run === 1 ? 'HELIOS Greece' : `HELIOS Greece (run ${run})` };
}

/**
 * Two courses written as rows (no course folder): Greek A2 with six units and a soft-skills course
 * with four, ten lessons a unit, the tenth a quiz. Made once; a later seed reuses them.
 */
async function generateCourses(client: pg.ClientBase) {
  for (const c of GENERATED_COURSES) {
    const made = await client.query<{ id: number }>(
      `INSERT INTO courses (slug, title, language, instruction_languages, level, subject, summary, study_hours, license, image, source_hash, imported_at, created_at)
       VALUES ($1, $2, $3, '["en"]', $4, $5, $6, $7, 'CC BY-SA 4.0', NULL, 'generated', now(), now())
       ON CONFLICT (slug) DO NOTHING RETURNING id`,
      [c.slug, c.title, c.language, c.level, c.subject, `${c.title}: practice for daily life and work, in short lessons for a phone.`, c.hours],
    );
    const courseId = made.rows[0]?.id;
    if (!courseId) continue;
    await client.query(
      `INSERT INTO course_units (course_id, slug, title, position) SELECT $1, 'unit-' || u, $2 || ' — unit ' || u, u FROM generate_series(1, $3::int) u`,
      [courseId, c.title, c.units],
    );
    const quiz = {
      passScore: 60,
      questions: [
        { id: 'q1', type: 'single', prompt: 'Which answer is right?', options: [{ id: 'a', text: 'This one', correct: true }, { id: 'b', text: 'That one', correct: false }], answers: [], explanation: null },
        { id: 'q2', type: 'single', prompt: 'And this time?', options: [{ id: 'a', text: 'The first', correct: false }, { id: 'b', text: 'The second', correct: true }], answers: [], explanation: null },
        { id: 'q3', type: 'fill', prompt: 'Type the word "yes".', options: [], answers: ['yes'], explanation: null },
      ],
    };
    await client.query(
      `INSERT INTO lessons (course_id, unit_id, slug, title, type, minutes, position, body_html, body_html_data_saver, media, quiz, retired)
       SELECT $1, u.id, 'u' || u.position || '-l' || l, CASE WHEN l = ${LESSONS_PER_UNIT} THEN 'Check what you learned' ELSE 'Lesson ' || l || ' of ' || u.title END,
              CASE WHEN l = ${LESSONS_PER_UNIT} THEN 'quiz' ELSE 'text' END, 10 + (l * 7) % 20, (u.position - 1) * ${LESSONS_PER_UNIT} + l,
              '<p>Read the short text, say the new words aloud, and write two sentences of your own.</p>',
              '<p>Read the short text, say the new words aloud, and write two sentences of your own.</p>', '[]',
              CASE WHEN l = ${LESSONS_PER_UNIT} THEN $2::jsonb END, false
       FROM course_units u, generate_series(1, ${LESSONS_PER_UNIT}) l WHERE u.course_id = $1`,
      [courseId, JSON.stringify(quiz)],
    );
  }
}

/**
 * One monthly scheme over the year: a learner who completed four lessons in a month earns 1 GB
 * for it. Each month's batch paid every eligible learner with a phone; past months were sent and
 * confirmed (a few failed, a few were cancelled before sending); this month's is still going out.
 */
async function seedAllowances(client: pg.ClientBase, prefix: string, coordinator: number, onIssues: (n: number) => void, onLedger: (n: number) => void) {
  const q = async (sql: string, params: unknown[] = []) => (await client.query(sql, params)).rowCount ?? 0;
  const { rows: [scheme] } = await client.query<{ id: number }>(
    `INSERT INTO allowance_schemes (programme_id, name, created_by_id, created_at)
     SELECT pc.programme_id, 'Monthly mobile data', $1, r.start FROM programme_coordinators pc, seed_run r WHERE pc.user_id = $1 LIMIT 1 RETURNING id`,
    [coordinator],
  );
  const { rows: [version] } = await client.query<{ id: number }>(
    `INSERT INTO allowance_scheme_versions (scheme_id, version, starts_on, period, unit, currency, amount, budget, rule, threshold, cohort_ids, site_ids, note, created_by_id, created_at)
     SELECT $1, 1, (r.start AT TIME ZONE 'Europe/Athens')::date, 'monthly', 'megabytes', NULL, 1000, 1000 * (SELECT count(*) FROM seed_learners), 'lessons', 4, '[]', '[]',
            '1 GB a month for every learner who completes four lessons in it.', $2, r.start
     FROM seed_run r RETURNING id`,
    [scheme!.id, coordinator],
  );
  // Who earned which month: four lessons completed in it (Athens time), and a phone to send to.
  await q(
    `CREATE TEMP TABLE seed_earned AS
     SELECT p.learner_id, date_trunc('month', p.completed_at AT TIME ZONE 'Europe/Athens')::date AS period_start, count(*)::int AS done
     FROM seed_learners s JOIN lesson_progress p ON p.learner_id = s.user_id JOIN users u ON u.id = s.user_id
     WHERE p.completed_at IS NOT NULL AND u.phone IS NOT NULL
     GROUP BY 1, 2 HAVING count(*) >= 4`,
  );
  await q(`ANALYZE seed_earned`);
  await q(
    `INSERT INTO allowance_batches (scheme_id, version_id, period_start, period_end, idempotency_key, issued_count, left_out_for_budget, created_by_id, created_at)
     SELECT $1, $2, e.period_start, (e.period_start + interval '1 month')::date, 'seed-' || $3 || '-' || e.period_start, count(*), 0, $4,
            least(r.now - interval '1 hour', (e.period_start + interval '1 month' + interval '2 days')::timestamp AT TIME ZONE 'Europe/Athens')
     FROM seed_earned e, seed_run r GROUP BY e.period_start, r.now ORDER BY e.period_start`,
    [scheme!.id, version!.id, prefix, coordinator],
  );
  // The outcome of each allowance, decided once: past months delivered (a few failed or cancelled).
  const issues = await q(
    `INSERT INTO allowance_issues (scheme_id, batch_id, learner_id, period_start, amount, unit, currency, phone, operator, status, attempt, operator_transaction_id, created_at)
     SELECT $1, b.id, e.learner_id, e.period_start, 1000, 'megabytes', NULL, u.phone, NULL, o.status,
            CASE WHEN o.status IN ('pending', 'cancelled') THEN 0 ELSE 1 END,
            CASE WHEN o.status = 'delivered' THEN 'OP-' || upper(substr(md5(e.learner_id || '-' || e.period_start), 1, 12)) END, b.created_at
     FROM seed_earned e JOIN allowance_batches b ON b.scheme_id = $1 AND b.period_start = e.period_start JOIN users u ON u.id = e.learner_id, seed_run r,
          LATERAL (SELECT CASE
            WHEN b.period_start >= date_trunc('month', r.now AT TIME ZONE 'Europe/Athens')::date THEN (ARRAY['pending','pending','sent','sent','delivered'])[1 + floor(random() * 5)::int]
            ELSE (ARRAY['delivered','delivered','delivered','delivered','delivered','delivered','delivered','delivered','delivered','delivered','delivered','delivered','delivered','delivered','delivered','delivered','delivered','delivered','failed','cancelled'])[1 + floor(random() * 20)::int]
          END AS status, e.learner_id AS l) o`,
    [scheme!.id],
  );
  onIssues(issues);
  // Fresh tables have no statistics yet: without them the join below is planned as if they were tiny.
  await q(`ANALYZE seed_earned`);
  await q(`ANALYZE allowance_issues`);
  // The ledger tells each allowance's story in order; its sum over amounts is what was committed.
  const whyVars = `jsonb_build_object('done', e.done, 'count', 4)`;
  const ledger = await q(
    `INSERT INTO allowance_ledger (issue_id, batch_id, scheme_id, learner_id, period_start, kind, amount, unit, currency, status_after, phone, reference, handoff, operator_transaction_id, why_key, why_vars, note, actor_id, at)
     SELECT i.id, i.batch_id, i.scheme_id, i.learner_id, i.period_start, s.kind, s.amount, 'megabytes', NULL, s.status_after,
            CASE WHEN s.kind = 'sent' THEN i.phone END, CASE WHEN s.kind IN ('sent', 'delivered', 'failed') THEN 'DARS-' || i.id || '-1' END,
            CASE WHEN s.kind = 'sent' THEN h.handoff END, CASE WHEN s.kind = 'delivered' THEN i.operator_transaction_id END,
            s.why_key, s.why_vars, s.note, $2, i.created_at + s.after
     FROM allowance_issues i JOIN seed_earned e ON e.learner_id = i.learner_id AND e.period_start = i.period_start
     JOIN (SELECT id AS batch_id, gen_random_uuid() AS handoff FROM allowance_batches WHERE scheme_id = $1) h ON h.batch_id = i.batch_id,
     LATERAL (VALUES
       (1, 'issued', i.amount, 'pending', 'allowances:reason.lessons', ${whyVars}, NULL::text, interval '0'),
       (2, 'sent', 0, 'sent', 'allowances:why.sent', '{}'::jsonb, NULL, interval '1 hour'),
       (3, CASE i.status WHEN 'failed' THEN 'failed' ELSE 'delivered' END, 0, CASE i.status WHEN 'failed' THEN 'failed' ELSE 'delivered' END,
           CASE i.status WHEN 'failed' THEN 'allowances:why.failed' ELSE 'allowances:why.delivered' END, '{}'::jsonb, NULL, interval '1 day'),
       (4, 'cancelled', -i.amount, 'cancelled', 'allowances:why.cancelled', '{}'::jsonb, 'Left the programme before the data was sent.', interval '3 hours')
     ) AS s(step, kind, amount, status_after, why_key, why_vars, note, after)
     WHERE i.scheme_id = $1 AND (s.step = 1
        OR (s.step = 2 AND i.status IN ('sent', 'delivered', 'failed'))
        OR (s.step = 3 AND i.status IN ('delivered', 'failed'))
        OR (s.step = 4 AND i.status = 'cancelled'))
     ORDER BY i.id, s.step`,
    [scheme!.id, coordinator],
  );
  onLedger(ledger);
  await q(`DROP TABLE seed_earned`);
}

/** The tables a seed fills row by row in the millions. */
const BULK_TABLES = ['users', 'enrolments', 'lesson_progress', 'study_time', 'quiz_attempts', 'course_completions', 'data_usage', 'submissions', 'submission_versions', 'grades', 'grade_changes', 'allowance_issues', 'allowance_ledger'];

/**
 * PostgreSQL's bulk-loading advice: a foreign key checked row by row costs a lookup (and a row
 * lock) per row — most of a seed's time — while the same key added back at the end checks every
 * row in one join. Inside the seed's transaction the keys are dropped and re-created exactly as
 * they were (same name, same definition), so no row that breaks one can ever be committed and
 * nobody else ever sees the tables without them.
 */
async function suspendReferenceChecks(client: pg.ClientBase) {
  const { rows } = await client.query<{ name: string; tbl: string; def: string }>(
    `SELECT c.conname AS name, c.conrelid::regclass::text AS tbl, pg_get_constraintdef(c.oid) AS def
     FROM pg_constraint c WHERE c.contype = 'f' AND c.conrelid = ANY($1::regclass[]) ORDER BY c.conrelid::regclass::text, c.conname`,
    [BULK_TABLES],
  );
  for (const r of rows) await client.query(`ALTER TABLE ${r.tbl} DROP CONSTRAINT ${escapeName(r.name)}`);
  return {
    restore: async () => {
      for (const r of rows) await client.query(`ALTER TABLE ${r.tbl} ADD CONSTRAINT ${escapeName(r.name)} ${r.def}`);
    },
  };
}

const escapeName = (name: string) => `"${name.replace(/"/g, '""')}"`;
