/**
 * Typed errors with a stable code, an HTTP status and a translation key for the person who sees it.
 * Services throw these; the one error handler in app.ts turns them into pages. Anything else is a
 * bug: logged in full, shown as a plain translated 500 with no detail.
 */
export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  /** i18next key of the message shown to the user, and its variables. */
  readonly messageKey: string;
  readonly vars: Record<string, unknown>;

  constructor(code: string, status: number, messageKey: string, vars: Record<string, unknown> = {}) {
    super(code);
    this.code = code;
    this.status = status;
    this.messageKey = messageKey;
    this.vars = vars;
  }
}

export class NotFound extends AppError {
  constructor(messageKey = 'errors:notFound.body') {
    super('not_found', 404, messageKey);
  }
}

export class Forbidden extends AppError {
  constructor(messageKey = 'errors:forbidden.body') {
    super('forbidden', 403, messageKey);
  }
}

/** The user must sign in first; the handler redirects to the login page. */
export class SignInRequired extends AppError {
  constructor() {
    super('sign_in_required', 401, 'errors:signIn.body');
  }
}

/** A request that is well-formed but conflicts with what is stored (e.g. an already used name). */
export class Conflict extends AppError {
  constructor(messageKey: string, vars: Record<string, unknown> = {}) {
    super('conflict', 409, messageKey, vars);
  }
}

/**
 * Stored files cannot be written just now (the disk is full, read-only or failing). Nothing of the
 * request was kept; the person may try again later, and the operator finds the cause in the log.
 */
export class StorageUnavailable extends AppError {
  constructor(cause: unknown) {
    super('storage_unavailable', 503, 'errors:storage.body');
    this.cause = cause;
  }
}

/** Field-by-field problems with a form; routes re-render the form with them. */
export class InvalidInput extends AppError {
  readonly fields: Record<string, { key: string; vars?: Record<string, unknown> }>;
  constructor(fields: Record<string, { key: string; vars?: Record<string, unknown> }>, messageKey = 'validation:fixBelow') {
    super('invalid_input', 422, messageKey);
    this.fields = fields;
  }
}
