/**
 * The HTTP trigger's side of the function: authenticate the caller, read the request from the
 * body or the query string, and turn the outcome into a status code with a JSON body.
 */
import type { TargetResult } from '../../shared/backup';
import type { Config } from '../../shared/config';
import { ErrorCode, RefusalError, RequestError } from '../../shared/errors';
import { parseUntrustedJson } from '../../shared/json';
import type { Redactor } from '../../shared/redact';
import { SIGNATURE_HEADER, verifyWebhook } from '../../shared/webhook-auth';
import type { HttpEvent, RequestInput } from './triggers';

export const MAX_BODY_BYTES = 256 * 1024;

export interface HttpAnswer {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: false;
}

export function httpAnswer(statusCode: number, payload: unknown): HttpAnswer {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(payload),
    isBase64Encoded: false,
  };
}

/** Checks size, then the caller, then reads the request: each step before any parsing. */
export function readHttpRequest(
  event: HttpEvent,
  config: Config,
  redactor: Redactor,
): RequestInput {
  const encoding = event.isBase64Encoded ? 'base64' : 'utf8';
  // Measured without decoding: a huge body costs nothing before it is refused.
  const size = Buffer.byteLength(event.body ?? '', encoding);
  if (size > MAX_BODY_BYTES) {
    throw new RefusalError(
      ErrorCode.PayloadTooLarge,
      `the body is ${size} bytes; the limit is ${MAX_BODY_BYTES}`,
    );
  }
  const rawBody = Buffer.from(event.body ?? '', encoding);

  const headers = lowerCaseHeaders(event.headers);
  redactor.addSecret(headers.get(SIGNATURE_HEADER));
  authenticate(config, headers, rawBody);

  const text = rawBody.toString('utf8');
  const query = event.queryParameters ?? {};
  if (text.trim() === '') return { source: 'query', body: fromQuery(query) };

  if (Object.keys(query).length > 0) {
    throw new RequestError('query: give the request in the body or in query parameters, not both');
  }
  return { source: 'body', body: parseUntrustedJson(text, 'body') };
}

function lowerCaseHeaders(headers: Record<string, string> | undefined): Map<string, string> {
  const map = new Map<string, string>();
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (typeof value === 'string') map.set(name.toLowerCase(), value);
  }
  return map;
}

function authenticate(config: Config, headers: Map<string, string>, rawBody: Buffer): void {
  // The operator declares that the trigger's own check (FC signature or JWT) guards the endpoint.
  if (config.httpAuth === 'trigger') return;

  if (config.webhookSecrets === undefined) {
    throw new RefusalError(
      ErrorCode.Unauthenticated,
      'webhook calls are refused: the function has no WEBHOOK_SECRET (or HTTP_AUTH=trigger)',
    );
  }
  const verdict = verifyWebhook(config.webhookSecrets, headers, rawBody);
  if (!verdict.ok) throw new RefusalError(ErrorCode.Unauthenticated, verdict.reason);
}

/** Query values are strings; the two that are not strings in the request are converted. */
function fromQuery(query: Record<string, string>): Record<string, unknown> {
  const request: Record<string, unknown> = { ...query };
  for (const name of ['BackupRetentionPeriod', 'retentionPeriod']) {
    const value = query[name];
    if (value !== undefined && /^-?\d{1,4}$/.test(value)) request[name] = Number(value);
  }
  if (query.dryRun === 'true' || query.dryRun === 'false') request.dryRun = query.dryRun === 'true';
  return request;
}

/** Each error code's HTTP status; upstream codes not listed are a 502. */
const STATUS_BY_CODE: ReadonlyArray<readonly [RegExp, number]> = [
  [/^(InvalidRequest|MethodNotSupported|InvalidBackupMethod\..*|InvalidParameter.*)$/, 400],
  [/^Unauthenticated$/, 401],
  [/^NotAllowed$/, 403],
  [/^(InvalidDBInstanceId\.NotFound|NoInstanceSelected)$/, 404],
  [/^(InstanceNotRunning|InstanceLocked|OperationDenied\..*|IncorrectDBInstance\w+)$/, 409],
  [/^PayloadTooLarge$/, 413],
  [/Throttling/, 429],
  [/^DeadlineExceeded$/, 504],
  [/^(ConfigInvalid|Unexpected)$/, 500],
];

export function statusForCode(code: string): number {
  return STATUS_BY_CODE.find(([pattern]) => pattern.test(code))?.[1] ?? 502;
}

/** 200 when every target is fine, the failure's own status when all failed alike, else 207. */
export function statusForResults(results: readonly TargetResult[]): number {
  const failures = results.filter((result) => result.error !== undefined);
  if (failures.length === 0) return 200;
  if (failures.length < results.length) return 207;

  const statuses = new Set(failures.map((result) => statusForCode(result.error?.code ?? '')));
  const [only] = statuses;
  return statuses.size === 1 && only !== undefined ? only : 207;
}
