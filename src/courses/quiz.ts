/**
 * Quiz grading, on the server only: the form names each answer `a-<question id>`; answers are
 * checked against the stored questions before anything is graded, so a tampered form (an option
 * that does not exist, a missing answer) is refused with a message and records nothing.
 */
import { InvalidInput } from '../platform/errors.ts';
import type { QuestionResult, Quiz } from './course.entity.ts';

export const answerField = (questionId: string) => `a-${questionId}`;
const MAX_FILL = 200;

export type Answers = Map<string, string[]>;

function valuesOf(raw: unknown): string[] {
  if (raw === undefined) return [];
  const list = Array.isArray(raw) ? raw : [raw];
  return list.filter((v): v is string => typeof v === 'string');
}

/** The learner's answers, or InvalidInput naming each question that is unanswered or not answerable as sent. */
export function parseAnswers(quiz: Quiz, body: Record<string, unknown>): Answers {
  const answers: Answers = new Map();
  const fields: InvalidInput['fields'] = {};
  for (const q of quiz.questions) {
    const name = answerField(q.id);
    const given = valuesOf(body[name]).map((v) => v.trim()).filter(Boolean);
    if (!given.length) {
      fields[name] = { key: 'courses:quiz.answerThis' };
      continue;
    }
    if (q.type === 'fill') {
      if (given.length > 1 || given[0]!.length > MAX_FILL) fields[name] = { key: 'courses:quiz.tooLong', vars: { max: MAX_FILL } };
      else answers.set(q.id, given);
      continue;
    }
    const ids = new Set(q.options.map((o) => o.id));
    if (given.some((v) => !ids.has(v)) || new Set(given).size !== given.length || (q.type === 'single' && given.length > 1)) {
      fields[name] = { key: 'courses:quiz.notAChoice' };
      continue;
    }
    answers.set(q.id, given);
  }
  if (Object.keys(fields).length) throw new InvalidInput(fields, 'courses:quiz.fixAnswers');
  return answers;
}

/** Case and spaces do not count in a fill-in answer: "Καλη Μέρα" matches "καλημέρα". */
export function normaliseFill(s: string) {
  return s.normalize('NFC').toLocaleLowerCase().replace(/\s+/g, '');
}

export function grade(quiz: Quiz, answers: Answers): { score: number; passed: boolean; results: QuestionResult[] } {
  const results = quiz.questions.map((q) => {
    const given = answers.get(q.id) ?? [];
    let correct: boolean;
    if (q.type === 'fill') {
      const accepted = new Set(q.answers.map(normaliseFill));
      correct = given.length === 1 && accepted.has(normaliseFill(given[0]!));
    } else {
      // Multiple choice scores only when all the right options and none of the wrong ones are chosen.
      const right = new Set(q.options.filter((o) => o.correct).map((o) => o.id));
      correct = given.length === right.size && given.every((g) => right.has(g));
    }
    return { id: q.id, correct, given };
  });
  const score = Math.round((100 * results.filter((r) => r.correct).length) / Math.max(1, results.length));
  return { score, passed: score >= quiz.passScore, results };
}
