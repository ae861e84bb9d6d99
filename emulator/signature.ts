// Verifies the two signatures @alicloud/openapi-client produces, as the vendor gateway does:
// ACS3-HMAC-SHA256 (Authorization header, the default) and HMAC-SHA1 v1 RPC (Signature in the
// query, Config.signatureAlgorithm 'v2'). Both re-derive what was signed from decoded values.

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { ApiError } from './errors';
import type { EmulatorAccount } from './types';

/** How far a request's date may stray from the emulator's clock, either way. */
export const MAX_SKEW_MS = 15 * 60 * 1000;

const ACS3 = 'ACS3-HMAC-SHA256';

/** ACS3 headers whose meaning the emulator relies on, so a request must have signed them. */
const REQUIRED_SIGNED_HEADERS = [
  'host',
  'x-acs-action',
  'x-acs-version',
  'x-acs-date',
  'x-acs-signature-nonce',
  'x-acs-content-sha256',
] as const;

/** The request as it arrived, before any checking. */
export interface RawRequest {
  method: string;
  path: string;
  /** Query string as sent, without the "?". */
  rawQuery: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface VerifiedRequest {
  action: string;
  version: string;
  accessKeyId: string;
  /** Query and form-body parameters, decoded, without the v1 signing parameters. */
  params: Record<string, string>;
}

export interface VerifyContext {
  accounts: ReadonlyMap<string, EmulatorAccount>;
  nonces: NonceBook;
  now: () => number;
}

/** Remembers nonces for as long as a request carrying them could still be accepted. */
export class NonceBook {
  private readonly seen = new Map<string, number>();

  /** Records the nonce; false when it was already used by this key. */
  remember(accessKeyId: string, nonce: string, at: number): boolean {
    this.forgetOlderThan(at - 2 * MAX_SKEW_MS);

    const key = `${accessKeyId}\n${nonce}`;
    if (this.seen.has(key)) return false;

    this.seen.set(key, at);
    return true;
  }

  clear(): void {
    this.seen.clear();
  }

  private forgetOlderThan(limit: number): void {
    // Insertion order is time order, so stop at the first one still young enough.
    for (const [key, at] of this.seen) {
      if (at >= limit) return;
      this.seen.delete(key);
    }
  }
}

/** RFC 3986 encoding, as both signatures use it. */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Decodes a query string keeping "+" literal: the client writes spaces as %20. */
export function parseQuery(rawQuery: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;

    const eq = pair.indexOf('=');
    const name = eq === -1 ? pair : pair.slice(0, eq);
    const value = eq === -1 ? '' : pair.slice(eq + 1);
    params[safeDecode(name)] = safeDecode(value);
  }
  return params;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new ApiError(400, 'InvalidParameter', `Malformed percent-encoding in "${text}".`);
  }
}

function formParams(request: RawRequest): Record<string, string> {
  const type = header(request.headers, 'content-type') ?? '';
  if (!type.startsWith('application/x-www-form-urlencoded')) return {};

  return Object.fromEntries(new URLSearchParams(request.body.toString('utf8')));
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** The action a request names, read before it is verified, for the call log only. */
export function claimedAction(request: RawRequest): string {
  const fromHeader = header(request.headers, 'x-acs-action');
  if (fromHeader !== undefined) return fromHeader;

  return parseQueryLeniently(request.rawQuery).Action ?? '';
}

function parseQueryLeniently(rawQuery: string): Record<string, string> {
  try {
    return parseQuery(rawQuery);
  } catch {
    return {};
  }
}

/** Checks key, signature, token, date and nonce; throws the gateway's ApiError on any failure. */
export function verifyRequest(request: RawRequest, context: VerifyContext): VerifiedRequest {
  const authorization = header(request.headers, 'authorization');
  if (authorization?.startsWith(`${ACS3} `)) {
    return verifyAcs3(request, authorization, context);
  }

  const query = parseQuery(request.rawQuery);
  if (query.Signature !== undefined || formParams(request).Signature !== undefined) {
    return verifyRpcV1(request, context);
  }

  if (authorization !== undefined) {
    throw new ApiError(
      400,
      'IncompleteSignature',
      'The Authorization header is not ACS3-HMAC-SHA256.',
    );
  }
  throw new ApiError(400, 'MissingAccessKeyId', 'The request is not signed.');
}

interface Acs3Authorization {
  accessKeyId: string;
  signedHeaders: string[];
  signature: string;
}

function parseAcs3Authorization(authorization: string): Acs3Authorization {
  const match =
    /^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]*),Signature=([0-9a-f]+)$/.exec(
      authorization.trim(),
    );
  if (match?.[1] === undefined || match[2] === undefined || match[3] === undefined) {
    throw new ApiError(400, 'IncompleteSignature', 'The Authorization header is malformed.');
  }
  return { accessKeyId: match[1], signedHeaders: match[2].split(';'), signature: match[3] };
}

function verifyAcs3(
  request: RawRequest,
  authorization: string,
  context: VerifyContext,
): VerifiedRequest {
  const auth = parseAcs3Authorization(authorization);
  const headers = request.headers;

  for (const name of requiredSignedHeaders(request)) {
    if (!auth.signedHeaders.includes(name) || headers[name] === undefined) {
      throw new ApiError(
        400,
        'IncompleteSignature',
        `The header ${name} must be present and signed.`,
      );
    }
  }

  const account = findAccount(auth.accessKeyId, context);

  const stringToSign = acs3StringToSign(request, auth.signedHeaders);
  const expected = createHmac('sha256', account.accessKeySecret).update(stringToSign).digest('hex');
  if (!sameText(expected, auth.signature)) throw signatureMismatch(stringToSign);

  checkToken(account, header(headers, 'x-acs-security-token'));
  checkContentHash(request);
  checkDateAndNonce(account.accessKeyId, {
    date: header(headers, 'x-acs-date') ?? '',
    nonce: header(headers, 'x-acs-signature-nonce') ?? '',
    context,
  });

  return {
    action: header(headers, 'x-acs-action') ?? '',
    version: header(headers, 'x-acs-version') ?? '',
    accessKeyId: account.accessKeyId,
    params: { ...formParams(request), ...parseQuery(request.rawQuery) },
  };
}

function requiredSignedHeaders(request: RawRequest): string[] {
  const names: string[] = [...REQUIRED_SIGNED_HEADERS];
  if (request.headers['x-acs-security-token'] !== undefined) names.push('x-acs-security-token');
  if (request.body.length > 0) names.push('content-type');
  return names;
}

/** The string the client signed, rebuilt from decoded values, never from the raw query. */
export function acs3StringToSign(request: RawRequest, signedHeaders: readonly string[]): string {
  const query = parseQuery(request.rawQuery);
  const canonicalQuery = Object.keys(query)
    .sort()
    .map((name) => `${percentEncode(name)}=${percentEncode(query[name] ?? '')}`)
    .join('&');

  const canonicalHeaders = signedHeaders
    .map((name) => `${name}:${(header(request.headers, name) ?? '').trim()}\n`)
    .join('');

  const canonicalRequest = [
    request.method,
    request.path,
    canonicalQuery,
    canonicalHeaders,
    signedHeaders.join(';'),
    header(request.headers, 'x-acs-content-sha256') ?? '',
  ].join('\n');

  return `${ACS3}\n${sha256Hex(canonicalRequest)}`;
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function checkContentHash(request: RawRequest): void {
  // The signature covers the hash the client claims; this ties that hash to the bytes received.
  const claimed = header(request.headers, 'x-acs-content-sha256') ?? '';
  if (claimed.toLowerCase() !== sha256Hex(request.body)) {
    throw new ApiError(
      400,
      'ContentSHA256NotMatched',
      'The x-acs-content-sha256 header does not match the SHA-256 of the request body.',
    );
  }
}

/** The v1 parameters that carry the signature itself rather than the request. */
const V1_REQUIRED = [
  'AccessKeyId',
  'Signature',
  'SignatureNonce',
  'Timestamp',
  'Action',
  'Version',
];

function verifyRpcV1(request: RawRequest, context: VerifyContext): VerifiedRequest {
  const all = { ...formParams(request), ...parseQuery(request.rawQuery) };
  for (const name of V1_REQUIRED) {
    if (all[name] === undefined) throw new ApiError(400, `Missing${name}`, `${name} is mandatory.`);
  }
  if ((all.SignatureMethod ?? 'HMAC-SHA1') !== 'HMAC-SHA1') {
    throw new ApiError(400, 'InvalidSignatureMethod', 'SignatureMethod must be HMAC-SHA1.');
  }

  const account = findAccount(all.AccessKeyId ?? '', context);

  const { Signature: signature = '', ...signed } = all;
  const stringToSign = rpcV1StringToSign(request.method, signed);
  const expected = createHmac('sha1', `${account.accessKeySecret}&`)
    .update(stringToSign)
    .digest('base64');
  if (!sameText(expected, signature)) throw signatureMismatch(stringToSign);

  checkToken(account, all.SecurityToken);
  checkDateAndNonce(account.accessKeyId, {
    date: all.Timestamp ?? '',
    nonce: all.SignatureNonce ?? '',
    context,
  });

  return {
    action: all.Action ?? '',
    version: all.Version ?? '',
    accessKeyId: account.accessKeyId,
    params: withoutSigningParams(all),
  };
}

/** The v1 string to sign: METHOD & %2F & encoded(sorted name=value pairs). */
export function rpcV1StringToSign(method: string, params: Record<string, string>): string {
  const canonical = Object.keys(params)
    .sort()
    .map((name) => `${percentEncode(name)}=${percentEncode(params[name] ?? '')}`)
    .join('&');
  return `${method}&${percentEncode('/')}&${percentEncode(canonical)}`;
}

const SIGNING_PARAMS = new Set([
  'AccessKeyId',
  'Signature',
  'SignatureMethod',
  'SignatureNonce',
  'SignatureVersion',
  'SecurityToken',
  'Timestamp',
  'Action',
  'Version',
  'Format',
]);

function withoutSigningParams(all: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(all).filter(([name]) => !SIGNING_PARAMS.has(name)));
}

function findAccount(accessKeyId: string, context: VerifyContext): EmulatorAccount {
  const account = context.accounts.get(accessKeyId);
  if (account === undefined) {
    throw new ApiError(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
  }
  return account;
}

function checkToken(account: EmulatorAccount, token: string | undefined): void {
  if (!account.accessKeyId.startsWith('STS.')) return;

  if (token === undefined || token === '') {
    throw new ApiError(
      400,
      'InvalidSecurityToken.Malformed',
      'An STS access key needs its security token.',
    );
  }
  if (token !== account.securityToken) {
    throw new ApiError(
      400,
      'InvalidSecurityToken.MismatchWithAccessKey',
      'The security token does not belong to this access key.',
    );
  }
}

interface DateAndNonce {
  date: string;
  nonce: string;
  context: VerifyContext;
}

function checkDateAndNonce(accessKeyId: string, { date, nonce, context }: DateAndNonce): void {
  const signedAt = parseUtcSeconds(date);
  if (signedAt === undefined) {
    throw new ApiError(
      400,
      'InvalidTimeStamp.Format',
      `The timestamp "${date}" is not yyyy-MM-ddTHH:mm:ssZ.`,
    );
  }

  const now = context.now();
  if (Math.abs(now - signedAt) > MAX_SKEW_MS) {
    throw new ApiError(
      400,
      'InvalidTimeStamp.Expired',
      `The request date ${date} is more than 15 minutes from the server time.`,
    );
  }

  if (nonce === '' || !context.nonces.remember(accessKeyId, nonce, now)) {
    throw new ApiError(400, 'SignatureNonceUsed', 'The signature nonce has been used.');
  }
}

function parseUtcSeconds(text: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(text)) return undefined;

  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

function sameText(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

function signatureMismatch(stringToSign: string): ApiError {
  // The gateway echoes its string to sign so a caller can diff it against its own.
  return new ApiError(
    400,
    'SignatureDoesNotMatch',
    'Specified signature is not matched with our calculation. ' +
      `server string to sign is:${stringToSign}`,
  );
}
