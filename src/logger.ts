import pino, { type Logger } from 'pino';

export type { Logger };

/** One structured logger; secrets are redacted wherever they might appear. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'res.headers["set-cookie"]',
        'password',
        '*.password',
        'license',
        '*.license',
        'token',
        '*.token',
        'apiKey',
        '*.apiKey',
      ],
      censor: '[redacted]',
    },
  }, destination);
}
