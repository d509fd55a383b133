/**
 * SCORM 1.2 prerequisites (adlcp:prerequisites type="aicc_script"): which parts a learner must
 * finish before a part opens. The expression comes from the manifest, so it is parsed here by a
 * small parser of its own — never evaluated as code.
 *
 * Grammar (AICC CMI001, as SCORM 1.2 uses it); `&` binds tighter than `|`:
 *   expr   := and ('|' and)*
 *   and    := unary ('&' unary)*
 *   unary  := '~' unary | '(' expr ')' | n '*' '{' id (',' id)* '}' | id (('=' | '<>') status)?
 * A bare identifier is true when that part is passed or completed.
 */

export type Prerequisite =
  | { kind: 'id'; id: string }
  | { kind: 'status'; id: string; status: string; negate: boolean }
  | { kind: 'not'; of: Prerequisite }
  | { kind: 'and' | 'or'; of: Prerequisite[] }
  | { kind: 'set'; count: number; ids: string[] };

const STATUS_WORDS: Record<string, string> = {
  passed: 'passed', p: 'passed',
  completed: 'completed', c: 'completed',
  failed: 'failed', f: 'failed',
  incomplete: 'incomplete', i: 'incomplete',
  browsed: 'browsed', b: 'browsed',
  'not attempted': 'not attempted', n: 'not attempted',
};

type Token = { t: 'op'; v: string } | { t: 'word'; v: string } | { t: 'quoted'; v: string };

function tokenize(text: string): Token[] | null {
  const tokens: Token[] = [];
  const re = /\s*(?:(<>|[&|~()=*{},])|"([^"]*)"|([^\s&|~()=<>{},*"]+))/y;
  let i = 0;
  while (i < text.length) {
    if (/^\s*$/.test(text.slice(i))) break;
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) return null;
    tokens.push(m[1] ? { t: 'op', v: m[1] } : m[2] !== undefined ? { t: 'quoted', v: m[2] } : { t: 'word', v: m[3]! });
    i = re.lastIndex;
  }
  return tokens;
}

/** The parsed expression, or null when it does not follow the grammar. */
export function parsePrerequisites(text: string): Prerequisite | null {
  const tokens = tokenize(text);
  if (!tokens?.length || tokens.length > 500) return null;
  let pos = 0;
  const peek = () => tokens[pos];
  const isOp = (v: string) => peek()?.t === 'op' && peek()!.v === v;
  const fail = (): never => {
    throw new SyntaxError();
  };
  const status = (): string => {
    const tok = tokens[pos++];
    const word = tok && tok.t !== 'op' ? STATUS_WORDS[tok.v.toLowerCase()] : undefined;
    return word ?? fail();
  };
  const unary = (depth: number): Prerequisite => {
    if (depth > 50) fail();
    const tok = tokens[pos++] ?? fail();
    if (tok.t === 'op' && tok.v === '~') return { kind: 'not', of: unary(depth + 1) };
    if (tok.t === 'op' && tok.v === '(') {
      const inner = or(depth + 1);
      if (!isOp(')')) fail();
      pos++;
      return inner;
    }
    if (tok.t !== 'word') return fail();
    if (/^[0-9]+$/.test(tok.v) && isOp('*')) {
      pos++;
      if (!isOp('{')) fail();
      pos++;
      const ids: string[] = [];
      for (;;) {
        const id = tokens[pos++];
        if (id?.t !== 'word') fail();
        ids.push(id!.v);
        if (isOp(',')) pos++;
        else if (isOp('}')) break;
        else fail();
      }
      pos++;
      return { kind: 'set', count: Number(tok.v), ids };
    }
    if (isOp('=') || isOp('<>')) {
      const negate = tokens[pos++]!.v === '<>';
      return { kind: 'status', id: tok.v, status: status(), negate };
    }
    return { kind: 'id', id: tok.v };
  };
  const and = (depth: number): Prerequisite => {
    const of = [unary(depth)];
    while (isOp('&')) {
      pos++;
      of.push(unary(depth));
    }
    return of.length === 1 ? of[0]! : { kind: 'and', of };
  };
  const or = (depth: number): Prerequisite => {
    const of = [and(depth)];
    while (isOp('|')) {
      pos++;
      of.push(and(depth));
    }
    return of.length === 1 ? of[0]! : { kind: 'or', of };
  };
  try {
    const expr = or(0);
    return pos === tokens.length ? expr : null;
  } catch {
    return null;
  }
}

/** Every item identifier the expression names. */
export function identifiersIn(p: Prerequisite): string[] {
  switch (p.kind) {
    case 'id':
    case 'status':
      return [p.id];
    case 'set':
      return p.ids;
    case 'not':
      return identifiersIn(p.of);
    default:
      return p.of.flatMap(identifiersIn);
  }
}

/** Whether the prerequisites hold, given each item's SCORM 1.2 lesson status. */
export function prerequisitesMet(p: Prerequisite, statusOf: (identifier: string) => string): boolean {
  const done = (id: string) => ['passed', 'completed'].includes(statusOf(id));
  switch (p.kind) {
    case 'id':
      return done(p.id);
    case 'status':
      return (statusOf(p.id) === p.status) !== p.negate;
    case 'set':
      return p.ids.filter(done).length >= p.count;
    case 'not':
      return !prerequisitesMet(p.of, statusOf);
    case 'and':
      return p.of.every((x) => prerequisitesMet(x, statusOf));
    case 'or':
      return p.of.some((x) => prerequisitesMet(x, statusOf));
  }
}
