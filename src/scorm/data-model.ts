/**
 * The SCORM run-time data models (1.2 "CMI" and 2004 4th edition), as the server checks them.
 *
 * Every commit is checked element by element: the name must exist in the package's data model and
 * the value must have the element's type and length. The rules follow the specifications, except
 * where the scorm-again runtime in the learner's browser deliberately accepts more (its
 * relaxations are listed in its regex table, e.g. 1.2 suspend_data up to 64000 characters,
 * printable identifiers with spaces): a value the learner's runtime accepted must never be
 * refused here, or the learner's work would be lost on the way to the server.
 */

export type ScormVersion = '1.2' | '2004';

/** r: set by the LMS; w: written by the SCO; rw: both. */
type Access = 'r' | 'w' | 'rw';
type Check = (value: string) => boolean;

interface Rule {
  pattern: RegExp;
  access: Access;
  check: Check;
  /** Kept in the attempt's learner data and handed back at the next launch. */
  kept: boolean;
}

const length = (max: number): Check => (v) => v.length <= max;
const oneOf = (...values: string[]): Check => (v) => values.includes(v);
const matches = (re: RegExp): Check => (v) => re.test(v);
const decimalIn = (re: RegExp, min: number, max: number): Check => (v) => re.test(v) && Number(v) >= min && Number(v) <= max;

/** The longest learner response or correct-response pattern scorm-again lets through: 250 performance steps of two 250-character parts. */
const LONG_RESPONSE = 131_072;

const DECIMAL_12 = /^-?[0-9]{0,10}(\.[0-9]*)?$/;
const DECIMAL_2004 = /^-?[0-9]{1,10}(\.[0-9]{1,18})?$/;
const TIMESPAN_12 = /^([0-9]+):([0-9]{2}):([0-9]{2})(\.[0-9]{1,2})?$/;
const TIME_12 = /^(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,2})?$/;
const TIMESPAN_2004 = /^P(?:([.,\d]+)Y)?(?:([.,\d]+)M)?(?:([.,\d]+)W)?(?:([.,\d]+)D)?(?:T?(?:([.,\d]+)H)?(?:([.,\d]+)M)?(?:(\d+(?:\.\d{1,2})?)S)?)?$/;
const TIME_2004 =
  /^(19[7-9][0-9]|[2-9][0-9]{3})((-(0[1-9]|1[0-2]))((-(0[1-9]|[1-2][0-9]|3[0-1]))(T([0-1][0-9]|2[0-3])((:[0-5][0-9])((:[0-5][0-9])((\.[0-9]{1,6})((Z|([+-]([0-1][0-9]|2[0-3])))(:[0-5][0-9])?)?)?)?)?)?)?)?$/;
const IDENTIFIER_12 = /^[\u0021-\u007E\s]{0,255}$/;
const LONG_IDENTIFIER_2004 = /^[\s\S]{1,4000}$/;
const LANG = /^([a-zA-Z]{1,8}|i|x)(-[a-zA-Z0-9-]{2,8})?$|^$/;

/** A characterstring that may start with {lang=xx}; the length counts the text after it. */
const langString = (max: number): Check => (v) => {
  const m = /^\{lang=([a-zA-Z]{1,8}|i|x)(-[a-zA-Z0-9-]{2,8})?\}/.exec(v);
  return (m ? v.length - m[0].length : v.length) <= max;
};

const STATUS_12 = ['passed', 'completed', 'failed', 'incomplete', 'browsed', 'not attempted'];
const INTERACTION_TYPES_12 = ['true-false', 'choice', 'fill-in', 'matching', 'performance', 'sequencing', 'likert', 'numeric'];
const INTERACTION_TYPES_2004 = [...INTERACTION_TYPES_12, 'long-fill-in', 'other'];

const SCORM_12: [string, Access, Check][] = [
  ['cmi.core.student_id', 'r', matches(IDENTIFIER_12)],
  ['cmi.core.student_name', 'r', length(255)],
  ['cmi.core.lesson_location', 'rw', length(255)],
  ['cmi.core.credit', 'r', oneOf('credit', 'no-credit')],
  ['cmi.core.lesson_status', 'rw', oneOf(...STATUS_12)],
  ['cmi.core.entry', 'r', oneOf('ab-initio', 'resume', '')],
  ['cmi.core.score.raw', 'rw', decimalIn(DECIMAL_12, 0, 100)],
  ['cmi.core.score.max', 'rw', decimalIn(DECIMAL_12, 0, 100)],
  ['cmi.core.score.min', 'rw', decimalIn(DECIMAL_12, 0, 100)],
  ['cmi.core.total_time', 'r', matches(TIMESPAN_12)],
  ['cmi.core.lesson_mode', 'r', oneOf('normal', 'browse', 'review')],
  ['cmi.core.exit', 'w', oneOf('time-out', 'suspend', 'logout', '')],
  ['cmi.core.session_time', 'w', matches(TIMESPAN_12)],
  ['cmi.suspend_data', 'rw', length(64_000)],
  ['cmi.launch_data', 'r', length(4096)],
  ['cmi.comments', 'rw', length(4096)],
  ['cmi.comments_from_lms', 'r', length(4096)],
  ['cmi.objectives.n.id', 'rw', matches(IDENTIFIER_12)],
  ['cmi.objectives.n.score.raw', 'rw', decimalIn(DECIMAL_12, 0, 100)],
  ['cmi.objectives.n.score.max', 'rw', decimalIn(DECIMAL_12, 0, 100)],
  ['cmi.objectives.n.score.min', 'rw', decimalIn(DECIMAL_12, 0, 100)],
  ['cmi.objectives.n.status', 'rw', oneOf(...STATUS_12)],
  ['cmi.student_data.mastery_score', 'r', matches(DECIMAL_12)],
  ['cmi.student_data.max_time_allowed', 'r', matches(TIMESPAN_12)],
  ['cmi.student_data.time_limit_action', 'r', oneOf('exit,message', 'exit,no message', 'continue,message', 'continue,no message')],
  ['cmi.student_preference.audio', 'rw', (v) => /^-?[0-9]+$/.test(v) && Number(v) >= -1 && Number(v) <= 100],
  ['cmi.student_preference.language', 'rw', length(255)],
  ['cmi.student_preference.speed', 'rw', (v) => /^-?[0-9]+$/.test(v) && Number(v) >= -100 && Number(v) <= 100],
  ['cmi.student_preference.text', 'rw', (v) => /^-?[0-9]+$/.test(v) && Number(v) >= -1 && Number(v) <= 1],
  ['cmi.interactions.n.id', 'w', matches(IDENTIFIER_12)],
  ['cmi.interactions.n.objectives.n.id', 'w', matches(IDENTIFIER_12)],
  ['cmi.interactions.n.time', 'w', matches(TIME_12)],
  ['cmi.interactions.n.type', 'w', oneOf(...INTERACTION_TYPES_12)],
  ['cmi.interactions.n.correct_responses.n.pattern', 'w', length(LONG_RESPONSE)],
  ['cmi.interactions.n.weighting', 'w', matches(DECIMAL_12)],
  ['cmi.interactions.n.student_response', 'w', length(LONG_RESPONSE)],
  ['cmi.interactions.n.result', 'w', matches(/^(correct|wrong|unanticipated|neutral|([0-9]{0,3})?(\.[0-9]*)?)$/)],
  ['cmi.interactions.n.latency', 'w', matches(TIMESPAN_12)],
];

const SCORE_2004: [string, Access, Check][] = [
  ['score.scaled', 'rw', decimalIn(DECIMAL_2004, -1, 1)],
  ['score.raw', 'rw', matches(DECIMAL_2004)],
  ['score.min', 'rw', matches(DECIMAL_2004)],
  ['score.max', 'rw', matches(DECIMAL_2004)],
];

const SCORM_2004: [string, Access, Check][] = [
  ['cmi.comments_from_learner.n.comment', 'rw', langString(4000)],
  ['cmi.comments_from_learner.n.location', 'rw', length(250)],
  ['cmi.comments_from_learner.n.timestamp', 'rw', matches(TIME_2004)],
  ['cmi.comments_from_lms.n.comment', 'r', langString(4000)],
  ['cmi.comments_from_lms.n.location', 'r', length(250)],
  ['cmi.comments_from_lms.n.timestamp', 'r', matches(TIME_2004)],
  ['cmi.completion_status', 'rw', oneOf('completed', 'incomplete', 'not attempted', 'unknown')],
  ['cmi.completion_threshold', 'r', decimalIn(DECIMAL_2004, 0, 1)],
  ['cmi.credit', 'r', oneOf('credit', 'no-credit')],
  ['cmi.entry', 'r', oneOf('ab-initio', 'resume', '')],
  ['cmi.exit', 'w', oneOf('time-out', 'suspend', 'logout', 'normal', '')],
  ['cmi.interactions.n.id', 'rw', matches(LONG_IDENTIFIER_2004)],
  ['cmi.interactions.n.type', 'rw', oneOf(...INTERACTION_TYPES_2004)],
  ['cmi.interactions.n.objectives.n.id', 'rw', matches(LONG_IDENTIFIER_2004)],
  ['cmi.interactions.n.timestamp', 'rw', matches(TIME_2004)],
  ['cmi.interactions.n.correct_responses.n.pattern', 'rw', length(LONG_RESPONSE)],
  ['cmi.interactions.n.weighting', 'rw', matches(DECIMAL_2004)],
  ['cmi.interactions.n.learner_response', 'rw', length(LONG_RESPONSE)],
  ['cmi.interactions.n.result', 'rw', matches(/^(correct|incorrect|unanticipated|neutral|-?([0-9]{1,4})(\.[0-9]{1,18})?)$/)],
  ['cmi.interactions.n.latency', 'rw', matches(TIMESPAN_2004)],
  // scorm-again lets descriptions run past the 250-character SPM; so does the server, within reason.
  ['cmi.interactions.n.description', 'rw', langString(4000)],
  ['cmi.launch_data', 'r', length(4000)],
  ['cmi.learner_id', 'r', matches(LONG_IDENTIFIER_2004)],
  ['cmi.learner_name', 'r', langString(250)],
  ['cmi.learner_preference.audio_level', 'rw', decimalIn(DECIMAL_2004, 0, 999.9999999)],
  ['cmi.learner_preference.language', 'rw', matches(LANG)],
  ['cmi.learner_preference.delivery_speed', 'rw', decimalIn(DECIMAL_2004, 0, 999.9999999)],
  ['cmi.learner_preference.audio_captioning', 'rw', oneOf('-1', '0', '1')],
  ['cmi.location', 'rw', length(1000)],
  ['cmi.max_time_allowed', 'r', matches(TIMESPAN_2004)],
  ['cmi.mode', 'r', oneOf('browse', 'normal', 'review')],
  ['cmi.objectives.n.id', 'rw', matches(LONG_IDENTIFIER_2004)],
  ...SCORE_2004.map(([name, access, check]): [string, Access, Check] => [`cmi.objectives.n.${name}`, access, check]),
  ['cmi.objectives.n.success_status', 'rw', oneOf('passed', 'failed', 'unknown')],
  ['cmi.objectives.n.completion_status', 'rw', oneOf('completed', 'incomplete', 'not attempted', 'unknown')],
  ['cmi.objectives.n.progress_measure', 'rw', decimalIn(DECIMAL_2004, 0, 1)],
  ['cmi.objectives.n.description', 'rw', langString(4000)],
  ['cmi.progress_measure', 'rw', decimalIn(DECIMAL_2004, 0, 1)],
  ['cmi.scaled_passing_score', 'r', decimalIn(DECIMAL_2004, -1, 1)],
  ...SCORE_2004.map(([name, access, check]): [string, Access, Check] => [`cmi.${name}`, access, check]),
  ['cmi.session_time', 'w', matches(TIMESPAN_2004)],
  ['cmi.success_status', 'rw', oneOf('passed', 'failed', 'unknown')],
  ['cmi.suspend_data', 'rw', length(64_000)],
  ['cmi.time_limit_action', 'r', oneOf('exit,message', 'exit,no message', 'continue,message', 'continue,no message')],
  ['cmi.total_time', 'r', matches(TIMESPAN_2004)],
];

/** Elements recorded on the session, not in the learner data: they describe one sitting only. */
const SESSION_ELEMENTS = new Set(['cmi.core.exit', 'cmi.core.session_time', 'cmi.exit', 'cmi.session_time']);

function compile(table: [string, Access, Check][]): Rule[] {
  return table.map(([name, access, check]) => ({
    // Indexes run to 9999 at most: no specification or runtime list grows that long.
    pattern: new RegExp(`^${name.replace(/\./g, '\\.').replace(/\\\.n\\\./g, '\\.(0|[1-9][0-9]{0,3})\\.')}$`),
    access,
    // An empty string is how a runtime reports an element that was never set.
    check: (v: string) => v === '' || check(v),
    kept: access !== 'r' && !SESSION_ELEMENTS.has(name),
  }));
}

const RULES: Record<ScormVersion, Rule[]> = { '1.2': compile(SCORM_12), '2004': compile(SCORM_2004) };

export interface ElementProblem {
  element: string;
  problem: 'unknown' | 'type' | 'shape';
}

export interface CheckedCommit {
  /** Elements the SCO wrote that belong to the attempt (learner data), by dotted name. */
  kept: Record<string, string>;
  exit: string | null;
  sessionTime: string | null;
  /** adl.nav.request of SCORM 2004: what the SCO asked the player to do next. */
  navRequest: string | null;
}

/** Most elements a commit may name: far above any real package, low enough to bound the work. */
const MAX_ELEMENTS = 50_000;

/**
 * Flattens a runtime's nested `cmi` object ({"core": {"lesson_status": "…"}}) into dotted element
 * names and checks every one. Read-only elements sent back by the runtime are checked and then
 * ignored: the server decides them at launch.
 */
export function checkCommit(version: ScormVersion, cmi: unknown, adl?: unknown): { ok: true; commit: CheckedCommit } | { ok: false; problems: ElementProblem[] } {
  const problems: ElementProblem[] = [];
  const flat: [string, string][] = [];
  const walk = (node: unknown, prefix: string, depth: number) => {
    if (problems.length > 20) return;
    if (typeof node === 'string') return void flat.push([prefix, node]);
    if (node === null || typeof node !== 'object' || Array.isArray(node) || depth > 8) return void problems.push({ element: prefix, problem: 'shape' });
    for (const [key, value] of Object.entries(node)) {
      if (!/^([a-z_]{1,40}|[0-9]{1,5})$/.test(key)) {
        problems.push({ element: `${prefix}.${key.slice(0, 40)}`, problem: 'unknown' });
        continue;
      }
      walk(value, `${prefix}.${key}`, depth + 1);
      if (flat.length > MAX_ELEMENTS) return void problems.push({ element: prefix, problem: 'shape' });
    }
  };
  walk(cmi, 'cmi', 0);
  let navRequest: string | null = null;
  if (adl !== undefined) {
    const nav = (adl as { nav?: { request?: unknown } } | null)?.nav;
    const request = nav?.request;
    if (version !== '2004' || typeof request !== 'string' || request.length > 4000) problems.push({ element: 'adl.nav.request', problem: 'type' });
    else navRequest = request || null;
  }
  if (problems.length) return { ok: false, problems };

  const commit: CheckedCommit = { kept: {}, exit: null, sessionTime: null, navRequest };
  for (const [element, value] of flat) {
    const rule = RULES[version].find((r) => r.pattern.test(element));
    if (!rule) {
      problems.push({ element, problem: 'unknown' });
      continue;
    }
    // PostgreSQL cannot store NUL or half a surrogate pair; no runtime value needs either.
    if (value.includes('\u0000') || !value.isWellFormed() || !rule.check(value)) {
      problems.push({ element, problem: 'type' });
      continue;
    }
    if (rule.kept) commit.kept[element] = value;
    else if (element.endsWith('.exit')) commit.exit = value;
    else if (element.endsWith('.session_time')) commit.sessionTime = value || null;
  }
  return problems.length ? { ok: false, problems: problems.slice(0, 20) } : { ok: true, commit };
}

/** Seconds in a SCORM timespan: 1.2 "HHHH:MM:SS.SS" or 2004 ISO 8601 "P1DT2H3M4.5S". */
export function timespanSeconds(version: ScormVersion, value: string | null | undefined): number {
  if (!value) return 0;
  if (version === '1.2') {
    const m = TIMESPAN_12.exec(value);
    return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) + Number(m[4] ?? 0) : 0;
  }
  const m = TIMESPAN_2004.exec(value);
  if (!m) return 0;
  const n = (i: number) => Number((m[i] ?? '0').replace(',', '.')) || 0;
  // Years and months have no fixed length; the usual conventions (365 and 30 days) are close enough for study time.
  return n(1) * 365 * 86400 + n(2) * 30 * 86400 + n(3) * 7 * 86400 + n(4) * 86400 + n(5) * 3600 + n(6) * 60 + n(7);
}

/** A timespan in the version's own format: "0001:02:03.40" or "PT1H2M3.4S". */
export function formatTimespan(version: ScormVersion, seconds: number): string {
  const cs = Math.max(0, Math.round(seconds * 100));
  const h = Math.floor(cs / 360000);
  const m = Math.floor((cs % 360000) / 6000);
  const s = (cs % 6000) / 100;
  if (version === '1.2') {
    const whole = Math.floor(s);
    const frac = cs % 100;
    return `${String(h).padStart(4, '0')}:${String(m).padStart(2, '0')}:${String(whole).padStart(2, '0')}${frac ? `.${String(frac).padStart(2, '0')}` : ''}`;
  }
  return `PT${h ? `${h}H` : ''}${m ? `${m}M` : ''}${s || (!h && !m) ? `${Number(s.toFixed(2))}S` : ''}`;
}

export function isTimespan(version: ScormVersion, value: string) {
  return (version === '1.2' ? TIMESPAN_12 : TIMESPAN_2004).test(value) && value !== 'P' && value !== 'PT';
}

export const TIME_LIMIT_ACTIONS = ['exit,message', 'exit,no message', 'continue,message', 'continue,no message'] as const;
