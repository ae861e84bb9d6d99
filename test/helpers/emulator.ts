// Talks to the emulator the way production code will: through @alicloud/openapi-client. Also
// captures what that client puts on the wire, and signs raw requests by hand, so tests can send
// requests the client would never produce (tampered, stale, replayed).

import { createHash, createHmac, randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenApi, { Config, OpenApiRequest, Params } from '@alicloud/openapi-client';
import { DEFAULT_ACCOUNTS, type Emulator, type EmulatorAccount } from '../../emulator/index';

export const STS_ACCOUNT = DEFAULT_ACCOUNTS[0] as EmulatorAccount & { securityToken: string };
export const PLAIN_ACCOUNT = DEFAULT_ACCOUNTS[1] as EmulatorAccount;

/** 'ACS3' is the client's default; 'v2' is Config.signatureAlgorithm 'v2' (HMAC-SHA1 RPC). */
export type SignatureVersion = 'ACS3' | 'v2';

export interface ClientOptions {
  account?: EmulatorAccount;
  signature?: SignatureVersion;
  readTimeout?: number;
}

export type Query = Record<string, string>;

export interface DdsClient {
  call(action: string, query?: Query, body?: Query): Promise<Record<string, unknown>>;
}

export function ddsClient(target: { endpoint: string }, options: ClientOptions = {}): DdsClient {
  const account = options.account ?? STS_ACCOUNT;
  const config = new Config({
    accessKeyId: account.accessKeyId,
    accessKeySecret: account.accessKeySecret,
    ...(account.securityToken === undefined ? {} : { securityToken: account.securityToken }),
    endpoint: target.endpoint,
    protocol: 'http',
    ...(options.signature === 'v2' ? { signatureAlgorithm: 'v2' } : {}),
  });
  const client = new OpenApi(config);
  const runtime = { readTimeout: options.readTimeout ?? 5000, connectTimeout: 5000 };

  return {
    async call(action, query = {}, body) {
      const params = new Params({
        action,
        version: '2015-12-01',
        protocol: 'HTTP',
        pathname: '/',
        method: 'POST',
        authType: 'AK',
        style: 'RPC',
        reqBodyType: 'formData',
        bodyType: 'json',
      });
      const request = new OpenApiRequest(body === undefined ? { query } : { query, body });
      // RuntimeOptions is a plain object at run time; its declared class drags in tea-util.
      const response = await client.callApi(params, request, runtime as never);
      return response.body as Record<string, unknown>;
    },
  };
}

/** The parts of a client error the tests look at. */
export interface CallFailure {
  code: unknown;
  statusCode: unknown;
  name: unknown;
  data: unknown;
}

export async function failureOf(promise: Promise<unknown>): Promise<CallFailure> {
  try {
    await promise;
  } catch (error) {
    const e = error as Record<string, unknown>;
    return { code: e.code, statusCode: e.statusCode, name: e.name, data: e.data };
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** One HTTP request as it travels: what the capture records and what tests replay. */
export interface WireRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** Runs the official client against a recorder and returns the request it sent. */
export async function captureClientRequest(
  action: string,
  query: Query,
  options: ClientOptions & { body?: Query } = {},
): Promise<WireRequest> {
  let captured: WireRequest | undefined;
  const recorder = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    req.on('end', () => {
      captured = { method: req.method ?? '', url: req.url ?? '', headers: flat(req.headers), body };
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));

  try {
    const { port } = recorder.address() as AddressInfo;
    await ddsClient({ endpoint: `127.0.0.1:${port}` }, options).call(action, query, options.body);
  } finally {
    recorder.closeAllConnections();
    recorder.close();
  }
  if (captured === undefined) throw new Error('the client sent nothing');
  return captured;
}

function flat(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(',') : value;
  }
  return out;
}

export interface RawResponse {
  status: number;
  contentType: string;
  body: Record<string, unknown>;
}

/**
 * Sends a wire request to the emulator as it is, Host header included (fetch would replace it),
 * so a request captured from the client still carries the host it signed.
 */
export function sendRaw(emulator: Emulator, request: WireRequest): Promise<RawResponse> {
  const {
    connection: _c,
    'content-length': _l,
    'transfer-encoding': _t,
    ...headers
  } = request.headers;
  const body = Buffer.from(request.body, 'utf8');

  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: emulator.port,
        method: request.method,
        path: request.url,
        headers: { ...headers, 'content-length': String(body.length) },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString('utf8');
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: res.headers['content-type'] ?? '',
            body: JSON.parse(text) as Record<string, unknown>,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Signs a request with ACS3-HMAC-SHA256, written from the vendor's description independently of
 * the emulator's verifier, so a test can pick the date, nonce and body.
 */
export function signAcs3(emulator: Emulator, spec: Acs3Spec): WireRequest {
  const account = spec.account ?? STS_ACCOUNT;
  const body = spec.body ?? '';
  const headers: Record<string, string> = {
    host: emulator.endpoint,
    'x-acs-action': spec.action,
    'x-acs-version': '2015-12-01',
    'x-acs-date': spec.date ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    'x-acs-signature-nonce': spec.nonce ?? randomUUID(),
    'x-acs-content-sha256': createHash('sha256').update(body).digest('hex'),
  };
  if (body !== '') headers['content-type'] = 'application/x-www-form-urlencoded';
  if (account.securityToken !== undefined) headers['x-acs-security-token'] = account.securityToken;

  const query = Object.entries(spec.query)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, value]) => `${rfc3986(name)}=${rfc3986(value)}`)
    .join('&');
  const names = Object.keys(headers).sort();
  const canonical = [
    'POST',
    '/',
    query,
    names.map((name) => `${name}:${headers[name]}\n`).join(''),
    names.join(';'),
    headers['x-acs-content-sha256'],
  ].join('\n');
  const stringToSign = `ACS3-HMAC-SHA256\n${createHash('sha256').update(canonical).digest('hex')}`;
  const signature = createHmac('sha256', account.accessKeySecret)
    .update(stringToSign)
    .digest('hex');

  headers.authorization =
    `ACS3-HMAC-SHA256 Credential=${account.accessKeyId},` +
    `SignedHeaders=${names.join(';')},Signature=${signature}`;
  return { method: 'POST', url: `/?${query}`, headers, body };
}

export interface Acs3Spec {
  action: string;
  query: Query;
  account?: EmulatorAccount;
  body?: string;
  date?: string;
  nonce?: string;
}

const rfc3986 = (text: string): string =>
  encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );

/** A clock the test moves by hand; starts at the real time so client signatures stay fresh. */
export function fakeClock(): { now: () => number; advance: (ms: number) => void } {
  let current = Date.now();
  return {
    now: () => current,
    advance: (ms) => {
      current += ms;
    },
  };
}

/** yyyy-MM-ddTHH:mmZ, the DescribeBackups time format. */
export const minutes = (ms: number): string =>
  new Date(ms).toISOString().replace(/:\d{2}\.\d{3}Z$/, 'Z');
