import { pino } from 'pino';

export function createLogger(level: string) {
  return pino({
    level,
    base: { app: 'dars' },
    // Passwords, tokens and cookies never reach a log line.
    redact: ['req.headers.cookie', 'req.headers["x-csrf-token"]', 'res.headers["set-cookie"]', '*.password', '*.passwordHash'],
  });
}
export type Logger = ReturnType<typeof createLogger>;
