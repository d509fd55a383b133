/**
 * Rubrics typed as plain text, one criterion per line, so a teacher can write one on a phone
 * without any script:
 *
 *   Grammar: Many mistakes = 0; Some mistakes = 2; Almost none = 4
 *   Vocabulary: Basic = 1; Varied = 3
 *
 * Criteria and levels get ids from their positions; a rubric cannot change once grades use it.
 */
import { InvalidInput } from '../platform/errors.ts';
import type { Rubric } from './assignment.entity.ts';

export const RUBRIC_LIMITS = { criteria: 10, levels: 6, points: 1000 } as const;

function problem(key: string, vars: Record<string, unknown>): InvalidInput {
  return new InvalidInput({ rubric: { key, vars } });
}

export function parseRubric(text: string): Rubric {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  if (lines.length > RUBRIC_LIMITS.criteria) throw problem('assignments:rubric.tooManyCriteria', { max: RUBRIC_LIMITS.criteria });
  const criteria = lines.map((line, i) => {
    const n = i + 1;
    const colon = line.indexOf(':');
    const title = colon > 0 ? line.slice(0, colon).trim() : '';
    const rest = colon > 0 ? line.slice(colon + 1) : '';
    const parts = rest
      .split(';')
      .map((l) => l.trim())
      .filter(Boolean);
    if (!title || parts.length < 2) throw problem('assignments:rubric.lineFormat', { line: n });
    if (parts.length > RUBRIC_LIMITS.levels) throw problem('assignments:rubric.tooManyLevels', { line: n, max: RUBRIC_LIMITS.levels });
    const levels = parts.map((part, j) => {
      const m = /^(.+?)\s*=\s*(\d{1,4})$/.exec(part);
      if (!m || Number(m[2]) > RUBRIC_LIMITS.points) throw problem('assignments:rubric.levelFormat', { line: n, level: part.slice(0, 40) });
      return { id: `l${j + 1}`, title: m[1]!.trim().slice(0, 120), points: Number(m[2]) };
    });
    return { id: `c${n}`, title: title.slice(0, 120), levels };
  });
  if (rubricMaxPoints({ criteria }) === 0) throw problem('assignments:rubric.noPoints', {});
  return { criteria };
}

export function formatRubric(rubric: Rubric): string {
  return rubric.criteria.map((c) => `${c.title}: ${c.levels.map((l) => `${l.title} = ${l.points}`).join('; ')}`).join('\n');
}

export function rubricMaxPoints(rubric: Rubric): number {
  return rubric.criteria.reduce((sum, c) => sum + Math.max(0, ...c.levels.map((l) => l.points)), 0);
}

/** The score of a choice of one level per criterion; every criterion must have a known level. */
export function rubricScore(rubric: Rubric, chosen: Record<string, string>): number {
  let sum = 0;
  for (const c of rubric.criteria) {
    const level = c.levels.find((l) => l.id === chosen[c.id]);
    if (!level) throw new InvalidInput({ [`level_${c.id}`]: { key: 'assignments:grade.chooseLevel', vars: { criterion: c.title } } });
    sum += level.points;
  }
  return sum;
}
