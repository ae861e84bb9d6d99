/**
 * Keeps secrets out of everything dds-backup writes: log lines, results and HTTP bodies.
 * Two nets: values under a sensitive-looking key are masked whatever they hold, and every
 * known secret string (the role's keys and token, the webhook secret) is masked wherever it
 * appears, even inside an upstream error message.
 */
const SENSITIVE_KEY = /secret|token|signature|password|authorization|credential|accesskey/i;
const MASK = '[REDACTED]';

/** Long caller-supplied strings are cut so no input can flood a log line. */
export const MAX_STRING_LENGTH = 512;

/** Secrets shorter than this are not searched for: masking "a" everywhere would garble logs. */
const MIN_SECRET_LENGTH = 6;

export class Redactor {
  private readonly secrets: string[] = [];

  addSecret(value: string | undefined): void {
    if (value === undefined || value.length < MIN_SECRET_LENGTH) return;
    if (!this.secrets.includes(value)) this.secrets.push(value);
  }

  /** `value` as JSON that is safe to print. One pass, with no copy of the value. */
  toJson(value: unknown): string {
    return JSON.stringify(value, (key, item: unknown) => {
      if (key !== '' && SENSITIVE_KEY.test(key)) return MASK;
      return typeof item === 'string' ? this.scrubString(item) : item;
    });
  }

  /** A copy of `value` that is safe to hand back to a caller. */
  scrub<T>(value: T): T {
    return JSON.parse(this.toJson(value)) as T;
  }

  scrubString(text: string): string {
    let clean = text;
    for (const secret of this.secrets) clean = clean.replaceAll(secret, MASK);
    return clean.length > MAX_STRING_LENGTH ? `${clean.slice(0, MAX_STRING_LENGTH)}…` : clean;
  }
}
