/** Structured JSON logs, one object per line, with bound fields (request_id, rpc, model). */
import type { LogLevel } from '../config.js';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level: LogLevel;
  write?: (line: string) => void;
  fields?: LogFields;
}

/** Errors do not survive JSON.stringify; keep their name and message (and stack at debug). */
function serialiseValue(value: unknown, withStack: boolean): unknown {
  if (value instanceof Error) {
    return withStack
      ? { name: value.name, message: value.message, stack: value.stack }
      : `${value.name}: ${value.message}`;
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}

export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const bound = options.fields ?? {};
  const threshold = RANK[options.level];
  const log = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (RANK[level] < threshold) return;
    const entry: LogFields = { time: new Date().toISOString(), level, msg, ...bound };
    for (const [k, v] of Object.entries(fields ?? {}))
      entry[k] = serialiseValue(v, options.level === 'debug');
    write(JSON.stringify(entry));
  };
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
    child: (fields) => createLogger({ ...options, write, fields: { ...bound, ...fields } }),
  };
}

/** For tests and tools that want silence. */
export const silentLogger: Logger = createLogger({ level: 'error', write: () => {} });
