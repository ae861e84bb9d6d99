/**
 * HMAC signatures for the HTTP webhook. A caller signs `timestamp + "." + raw body` with the
 * shared WEBHOOK_SECRET and sends both in headers; a stale timestamp stops replays, and the
 * constant-time comparison stops guessing the signature byte by byte.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const TIMESTAMP_HEADER = 'x-backup-timestamp';
export const SIGNATURE_HEADER = 'x-backup-signature';
export const TOLERANCE_SECONDS = 300;

export function computeSignature(secret: string, timestamp: string, body: Buffer | string): string {
  const hmac = createHmac('sha256', secret);
  hmac.update(`${timestamp}.`);
  hmac.update(body);
  return `sha256=${hmac.digest('hex')}`;
}

/** The secret to sign with: the first of WEBHOOK_SECRET's comma list (the others are older). */
export function signingSecret(configured: string): string {
  return configured.split(',')[0]?.trim() ?? configured;
}

/** The two headers a caller sends, for `npm run sign-webhook` and for tests. */
export function signWebhook(
  secret: string,
  body: Buffer | string,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): Record<string, string> {
  const timestamp = String(nowSeconds);
  return {
    'X-Backup-Timestamp': timestamp,
    'X-Backup-Signature': computeSignature(secret, timestamp, body),
  };
}

export type Verdict = { ok: true } | { ok: false; reason: string };

/**
 * `headers` must have lower-cased names. Any of `secrets` may have signed the request, so a
 * rotation can accept the old secret until every caller has the new one.
 */
export function verifyWebhook(
  secrets: readonly string[],
  headers: ReadonlyMap<string, string>,
  rawBody: Buffer,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): Verdict {
  const timestamp = headers.get(TIMESTAMP_HEADER)?.trim();
  const signature = headers.get(SIGNATURE_HEADER)?.trim();
  if (timestamp === undefined || signature === undefined) {
    return { ok: false, reason: 'X-Backup-Timestamp and X-Backup-Signature headers are required' };
  }

  if (!/^\d{1,12}$/.test(timestamp)) {
    return { ok: false, reason: 'X-Backup-Timestamp must be unix seconds' };
  }
  if (Math.abs(nowSeconds - Number(timestamp)) > TOLERANCE_SECONDS) {
    return { ok: false, reason: `X-Backup-Timestamp is more than ${TOLERANCE_SECONDS} s from now` };
  }

  const given = Buffer.from(signature);
  const matches = secrets.map((secret) => {
    const expected = Buffer.from(computeSignature(secret, timestamp, rawBody));
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches.includes(true)) {
    return { ok: false, reason: 'X-Backup-Signature does not match the body and timestamp' };
  }
  return { ok: true };
}
