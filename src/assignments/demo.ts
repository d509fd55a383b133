/** One demo assignment for the demo school, set by its teacher for its Greek class. */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { User } from '../accounts/index.ts';
import type { Cohort } from '../programmes/index.ts';
import { Assignment } from './assignment.entity.ts';
import { renderInstructions } from './instructions.ts';
import { parseRubric, rubricMaxPoints } from './rubric.ts';

const INSTRUCTIONS = `Write five sentences about yourself in Greek: your name, where you come from, where you live now, what languages you speak and what you like to do.

- Write them on paper and send **a photo**, or type them below.
- If you like, send **a voice recording** of you reading them aloud.`;

const RUBRIC = 'Sentences: Fewer than three = 0; Three or four = 2; All five = 4\nGreek spelling: Many mistakes = 1; Some mistakes = 2; Almost none = 3\nReading aloud: Not sent = 0; Sent = 1';

export async function seedDemoAssignment(em: EntityManager, teacher: User, cohort: Cohort, now = new Date()) {
  const day = 24 * 3600 * 1000;
  const rubric = parseRubric(RUBRIC);
  const assignment = em.create(Assignment, {
    title: 'Introduce yourself in five sentences',
    instructions: INSTRUCTIONS,
    instructionsHtml: renderInstructions(INSTRUCTIONS),
    createdBy: teacher,
    opensAt: new Date(now.getTime() - day),
    dueAt: new Date(now.getTime() + 7 * day),
    cutoffAt: new Date(now.getTime() + 14 * day),
    forms: ['text', 'photo', 'audio'],
    maxFiles: 3,
    maxFileMb: 10,
    rubric,
    maxPoints: rubricMaxPoints(rubric),
    resubmissionAllowed: true,
  });
  assignment.cohorts.add(cohort);
  await em.flush();
  return assignment;
}
