/**
 * Server-side form validation. Schemas are zod; every problem becomes a translation key shown
 * beside its field, and the page is rendered again with what the person typed.
 */
import type { Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import { InvalidInput, NotFound, StorageUnavailable } from './errors.ts';

type FieldProblems = InvalidInput['fields'];

/** The translation key (and variables) for one validation problem; shared by forms and file imports. */
export function keyFor(issue: z.core.$ZodIssue): { key: string; vars?: Record<string, unknown> } {
  // Schemas may name their own key, e.g. z.string().regex(re, 'accounts:errors.username').
  if (/^[a-z]+:[\w.]+$/.test(issue.message)) return { key: issue.message };
  switch (issue.code) {
    case 'too_small':
      return issue.origin === 'string' && Number(issue.minimum) === 1
        ? { key: 'validation:required' }
        : { key: issue.origin === 'string' ? 'validation:tooShort' : 'validation:tooSmall', vars: { min: Number(issue.minimum) } };
    case 'too_big':
      return { key: issue.origin === 'string' ? 'validation:tooLong' : 'validation:tooBig', vars: { max: Number(issue.maximum) } };
    case 'invalid_type':
      return { key: issue.input === undefined ? 'validation:required' : 'validation:invalid' };
    case 'invalid_value':
      return { key: 'validation:choose' };
    default:
      return { key: 'validation:invalid' };
  }
}

/** Parses a form body or throws InvalidInput naming each field's problem. */
export function parseForm<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const fields: FieldProblems = {};
  for (const issue of result.error.issues) {
    const name = String(issue.path[0] ?? '_form');
    fields[name] ??= keyFor(issue);
  }
  throw new InvalidInput(fields);
}

/** Empty form fields arrive as ''; treat them as absent. */
const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : typeof v === 'string' ? v.trim() : v);

/**
 * NUL cannot be stored by PostgreSQL; U+FFFD is what undecodable (invalid UTF-8) bytes become;
 * other C0 controls have no place in text people type.
 */
export const UNSTORABLE_TEXT = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFD]/;
const storable = (s: z.ZodString) => s.refine((v) => !UNSTORABLE_TEXT.test(v), 'validation:badCharacters');

export const field = {
  text: (max: number) => z.preprocess(blankToUndefined, storable(z.string().min(1).max(max))),
  optionalText: (max: number) => z.preprocess(blankToUndefined, storable(z.string().max(max)).optional()),
  int: (min: number, max: number) => z.preprocess(blankToUndefined, z.coerce.number().int().min(min).max(max)),
  optionalInt: (min: number, max: number) => z.preprocess(blankToUndefined, z.coerce.number().int().min(min).max(max).optional()),
  /** A checkbox: present means yes. */
  checkbox: () => z.preprocess((v) => v === 'on' || v === 'true' || v === '1' || v === 'yes', z.boolean()),
  optionalEnum: <const T extends readonly [string, ...string[]]>(values: T) => z.preprocess(blankToUndefined, z.enum(values).optional()),
  enum: <const T extends readonly [string, ...string[]]>(values: T) => z.preprocess(blankToUndefined, z.enum(values)),
  /** yes / no / not stated */
  optionalYesNo: () =>
    z.preprocess((v) => (v === 'yes' ? true : v === 'no' ? false : undefined), z.boolean().optional()),
};

export interface FormPage {
  view: string;
  /** The rest of the page's view-model (titles, choices); called again when the form is re-shown. */
  model: (req: Request, res: Response) => Promise<Record<string, unknown>> | Record<string, unknown>;
}

/**
 * Wraps a POST handler: when it throws InvalidInput, the same page is rendered again with the
 * messages beside their fields and the person's input kept (passwords are never echoed). When
 * the files of the form could not be stored, the page says so the same way (503), so what was
 * typed is not lost with them.
 */
export function formHandler(page: FormPage, handle: RequestHandler): RequestHandler {
  return async (req, res, next) => {
    try {
      await handle(req, res, next);
    } catch (err) {
      if (!(err instanceof InvalidInput || err instanceof StorageUnavailable)) throw err;
      const t = res.locals.t as (k: string, v?: Record<string, unknown>) => string;
      const errors: Record<string, string> = {};
      if (err instanceof InvalidInput) for (const [name, problem] of Object.entries(err.fields)) errors[name] = t(problem.key, problem.vars);
      else req.log?.error({ err: err.cause }, 'stored files could not be written');
      const values = { ...(req.body as Record<string, unknown>) };
      for (const k of Object.keys(values)) if (/password/i.test(k) || k === '_csrf') delete values[k];
      res.status(err.status).render(page.view, {
        ...(await page.model(req, res)),
        values,
        errors,
        formError: t(err.messageKey),
      });
    }
  };
}

/** Route parameters that do not parse name no record: answer 404, like an id that does not exist. */
export function parseParams<S extends z.ZodType>(schema: S, params: unknown): z.output<S> {
  const result = schema.safeParse(params);
  if (!result.success) throw new NotFound();
  return result.data;
}
