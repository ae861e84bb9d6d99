/**
 * The FC 3.0 HTTP trigger's two mappings for built-in runtimes: a request into the v1 event,
 * and the function's answer back into a response. Header names arrive canonicalised
 * (`x-backup-timestamp` becomes `X-Backup-Timestamp`) and repeated values comma-joined, as
 * the vendor documents; query parameters are joined the same way.
 */
import type { IncomingMessage } from 'node:http';

export interface HttpTriggerEvent {
  version: 'v1';
  rawPath: string;
  headers: Record<string, string>;
  queryParameters: Record<string, string>;
  body: string;
  isBase64Encoded: boolean;
  requestContext: {
    accountId: string;
    domainName: string;
    domainPrefix: string;
    requestId: string;
    time: string;
    timeEpoch: string;
    http: { method: string; path: string; protocol: string; sourceIp: string; userAgent: string };
  };
}

export interface EventSource {
  accountId: string;
  requestId: string;
  now: number;
}

export function canonicalHeaderName(name: string): string {
  return name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1).toLowerCase())
    .join('-');
}

export function httpTriggerEvent(
  request: IncomingMessage,
  body: Buffer,
  source: EventSource,
): HttpTriggerEvent {
  const url = new URL(request.url ?? '/', 'http://local');
  const host = request.headers.host ?? '127.0.0.1';
  const userAgent = request.headers['user-agent'] ?? '';

  return {
    version: 'v1',
    rawPath: url.pathname,
    headers: canonicalHeaders(request),
    queryParameters: joinedQuery(url.searchParams),
    ...encodedBody(body),
    requestContext: {
      accountId: source.accountId,
      domainName: host,
      domainPrefix: host.split('.')[0] ?? host,
      requestId: source.requestId,
      time: new Date(source.now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      timeEpoch: String(source.now),
      http: {
        method: request.method ?? 'GET',
        path: safeDecode(url.pathname),
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? '',
        userAgent,
      },
    },
  };
}

function canonicalHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, values] of Object.entries(request.headersDistinct)) {
    if (values !== undefined) headers[canonicalHeaderName(name)] = values.join(',');
  }
  return headers;
}

function joinedQuery(params: URLSearchParams): Record<string, string> {
  const query: Record<string, string> = {};
  for (const name of new Set(params.keys())) query[name] = params.getAll(name).join(',');
  return query;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Text stays text; bytes that are not valid UTF-8 travel as base64, flagged. */
function encodedBody(body: Buffer): { body: string; isBase64Encoded: boolean } {
  try {
    return { body: utf8.decode(body), isBase64Encoded: false };
  } catch {
    return { body: body.toString('base64'), isBase64Encoded: true };
  }
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

export interface HttpReply {
  statusCode: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * The answer struct maps field by field; any other value is sent as the body of a 200, an
 * object as JSON, as FC does for a function that returns no struct.
 */
export function httpReply(result: unknown): HttpReply {
  if (isAnswerStruct(result)) {
    const text = typeof result.body === 'string' ? result.body : '';
    return {
      statusCode: result.statusCode,
      headers: stringHeaders(result.headers),
      body: Buffer.from(text, result.isBase64Encoded === true ? 'base64' : 'utf8'),
    };
  }
  if (Buffer.isBuffer(result)) return { statusCode: 200, headers: {}, body: result };
  if (typeof result === 'string')
    return { statusCode: 200, headers: {}, body: Buffer.from(result) };

  const json = result === undefined ? '' : JSON.stringify(result);
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(json),
  };
}

interface AnswerStruct {
  statusCode: number;
  headers?: unknown;
  body?: unknown;
  isBase64Encoded?: unknown;
}

function isAnswerStruct(value: unknown): value is AnswerStruct {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { statusCode?: unknown }).statusCode === 'number'
  );
}

function stringHeaders(headers: unknown): Record<string, string> {
  if (typeof headers !== 'object' || headers === null) return {};
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value === 'string' || typeof value === 'number') out[name] = String(value);
  }
  return out;
}
