/**
 * The FC 2016-08-15 API signature as @alicloud/fc2 2.6.6 computes it (lib/helper.js and
 * lib/client.js): HMAC-SHA256 over method, Content-MD5, Content-Type, Date, the sorted
 * `x-fc-*` headers as `name:value` lines, then the unescaped path. Queries are signed only
 * under /proxy/, which the gateway does not serve. The client's Content-MD5 is base64 of the
 * md5's hex text, not of its bytes; checking it here is what ties the body to the signature.
 *
 * The error codes follow the FC API's style; which code the real service sends for each case
 * is not documented, so callers should read them as "refused", not depend on each one.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { EmulatorAccount } from '../emulator/index';

export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

/** Lower-cased header names, as node:http hands them over. */
export type SignedHeaders = Readonly<Record<string, string | undefined>>;

export interface SignedRequest {
  method: string;
  /** The path as the client signed it: decoded, query left off. */
  path: string;
  headers: SignedHeaders;
  body: Buffer;
}

export type FcVerdict =
  | { ok: true; account: EmulatorAccount }
  | { ok: false; status: 400 | 401 | 403; code: string; message: string };

export function stringToSign(method: string, path: string, headers: SignedHeaders): string {
  const fcHeaders = Object.keys(headers)
    .map((name) => name.toLowerCase().trim())
    .filter((name) => name.startsWith('x-fc-'))
    .sort()
    .map((name) => `${name}:${headers[name] ?? ''}\n`)
    .join('');

  const md5 = headers['content-md5'] ?? '';
  const type = headers['content-type'] ?? '';
  return `${method}\n${md5}\n${type}\n${headers.date}\n${fcHeaders}${path}`;
}

export function signature(secret: string, text: string): string {
  return createHmac('sha256', secret).update(text, 'utf8').digest('base64');
}

/** The Content-MD5 value fc2 sends for a body. */
export function contentMd5(body: Buffer): string {
  const hex = createHash('md5').update(body).digest('hex');
  return Buffer.from(hex, 'utf8').toString('base64');
}

export function verifyFcRequest(
  request: SignedRequest,
  accounts: readonly EmulatorAccount[],
  now: number = Date.now(),
): FcVerdict {
  const match = /^FC ([^:\s]+):(\S+)$/.exec(request.headers.authorization ?? '');
  if (match?.[1] === undefined || match[2] === undefined) {
    return refused(
      401,
      'MissingAuthorization',
      'Authorization: FC <key id>:<signature> is required',
    );
  }

  const account = accounts.find((known) => known.accessKeyId === match[1]);
  if (account === undefined) {
    return refused(403, 'InvalidAccessKeyID', `the access key ${match[1]} is not known`);
  }

  const given = Buffer.from(match[2]);
  const expected = Buffer.from(
    signature(account.accessKeySecret, stringToSign(request.method, request.path, request.headers)),
  );
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return refused(403, 'SignatureNotMatch', 'the request signature does not match');
  }

  return checkSignedFields(request, account, now);
}

/** What the signature covers only indirectly: token, clock and body. */
function checkSignedFields(
  request: SignedRequest,
  account: EmulatorAccount,
  now: number,
): FcVerdict {
  if (
    account.securityToken !== undefined &&
    request.headers['x-fc-security-token'] !== account.securityToken
  ) {
    return refused(403, 'InvalidSecurityToken', 'an STS key needs its x-fc-security-token');
  }

  const date = Date.parse(request.headers.date ?? '');
  if (Number.isNaN(date) || Math.abs(now - date) > MAX_CLOCK_SKEW_MS) {
    return refused(403, 'RequestTimeTooSkewed', 'the Date header is missing or 15 min off');
  }

  const md5 = request.headers['content-md5'];
  const hasBody = request.body.length > 0;
  if ((hasBody || md5 !== undefined) && md5 !== contentMd5(request.body)) {
    return refused(400, 'InvalidContentMD5', 'Content-MD5 does not match the body');
  }
  return { ok: true, account };
}

function refused(status: 400 | 401 | 403, code: string, message: string): FcVerdict {
  return { ok: false, status, code, message };
}
