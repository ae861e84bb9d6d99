/**
 * One JSON object per line on stdout. FC prefixes console.log output with plain text, which
 * SLS cannot index as JSON, so lines are written with process.stdout.write instead.
 */
import type { LogLevel } from './config';
import type { Redactor } from './redact';

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;
export type LineWriter = (line: string) => void;

export const writeToStdout: LineWriter = (line) => {
  process.stdout.write(line);
};

export class Logger {
  constructor(
    private readonly threshold: LogLevel,
    private readonly redactor: Redactor,
    private readonly fields: LogFields = {},
    private readonly write: LineWriter = writeToStdout,
  ) {}

  /** A logger whose lines all carry `fields` as well (request id, trigger, …). */
  child(fields: LogFields): Logger {
    return new Logger(this.threshold, this.redactor, { ...this.fields, ...fields }, this.write);
  }

  debug(msg: string, fields?: LogFields): void {
    this.log('debug', msg, fields);
  }

  info(msg: string, fields?: LogFields): void {
    this.log('info', msg, fields);
  }

  warn(msg: string, fields?: LogFields): void {
    this.log('warn', msg, fields);
  }

  error(msg: string, fields?: LogFields): void {
    this.log('error', msg, fields);
  }

  isEnabled(level: LogLevel): boolean {
    return LEVEL_RANK[level] >= LEVEL_RANK[this.threshold];
  }

  private log(level: LogLevel, msg: string, fields: LogFields | undefined): void {
    if (!this.isEnabled(level)) return;

    const record = { time: new Date().toISOString(), level, msg, ...this.fields, ...fields };
    this.write(`${this.redactor.toJson(record)}\n`);
  }
}
