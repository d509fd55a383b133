import type { RequestHandler } from 'express';
import type { IncomingMessage } from 'node:http';
import { pino } from 'pino';
import { pinoHttp } from 'pino-http';

export function createLogger(level: string) {
  return pino({
    level,
    base: { app: 'dars' },
    // Passwords, tokens and cookies never reach a log line.
    redact: ['req.headers.cookie', 'req.headers["x-csrf-token"]', 'res.headers["set-cookie"]', '*.password', '*.passwordHash'],
  });
}
export type Logger = ReturnType<typeof createLogger>;

/**
 * pino-http: a line per answer in the log at level info, and `req.log`, a logger bound to the
 * request, for handlers that log a failure. Below info no such line is written, yet pino-http
 * would still serialise every request (headers redacted) into a child logger: then `req.log` is
 * only made when a handler asks for it.
 */
export function requestLogging(logger: Logger, ignore: (req: IncomingMessage) => boolean): RequestHandler {
  if (logger.isLevelEnabled('info')) return pinoHttp({ logger, autoLogging: { ignore } });
  const bind = pinoHttp({ logger, autoLogging: false });
  return (req, res, next) => {
    Object.defineProperty(req, 'log', {
      configurable: true,
      enumerable: true,
      get() {
        Reflect.deleteProperty(req, 'log');
        bind(req, res);
        return req.log;
      },
      set(value) {
        Object.defineProperty(req, 'log', { configurable: true, enumerable: true, writable: true, value });
      },
    });
    next();
  };
}
