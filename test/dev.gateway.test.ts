// The local FC gateway, driven over real HTTP: the built bundle behind it, the emulator at the
// far end, and @alicloud/fc2 as the invoke API's client. Nothing of ours is mocked.

import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import FCClient from '@alicloud/fc2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildFunction } from '../dev/bundle';
import { BundleMissingError } from '../dev/errors';
import { type FcGateway, type InvocationRecord, startFcGateway } from '../dev/fc-gateway';
import type { HttpTriggerEvent } from '../dev/http-event';
import { LOCAL } from '../dev/local';
import type { FunctionSpec } from '../dev/stack';
import { DEFAULT_ACCOUNTS, type Emulator, startEmulator } from '../emulator/index';
import { signWebhook } from '../shared/webhook-auth';

const SECRET = 'dev-gateway-test-secret-0001';
const ROLE = DEFAULT_ACCOUNTS[0] as Required<(typeof DEFAULT_ACCOUNTS)[number]>;
const INSTANCE = 'dds-bp1a2b3c4d5e6f7g8h';
const SHARDED = 'dds-bp1shard0cluster01';

const spec = (overrides: Partial<FunctionSpec>): FunctionSpec => ({
  resource: 'dds-backup',
  functionName: 'dds-backup',
  handler: 'index.handler',
  memorySize: 128,
  timeout: 120,
  environment: {},
  timers: [],
  hasHttpTrigger: false,
  maxAsyncRetryAttempts: 0,
  ...overrides,
});

const FUNCTIONS = [
  spec({}),
  spec({
    resource: 'dds-backup-webhook',
    functionName: 'dds-backup-webhook',
    memorySize: 256,
    timeout: 30,
    hasHttpTrigger: true,
  }),
];

let outDir: string;
let bundlePath: string;
let emulator: Emulator;
let gateway: FcGateway;
const invocations: InvocationRecord[] = [];

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'dds-backup-gateway-'));
  bundlePath = await buildFunction(outDir);
  emulator = await startEmulator({ jobDurationMs: 60_000 });
  gateway = await startFcGateway({
    port: 0,
    bundlePath,
    functions: FUNCTIONS,
    environment: {
      DDS_ENDPOINT: emulator.url,
      DDS_REGION: 'cn-hangzhou',
      WEBHOOK_SECRET: SECRET,
      LOG_LEVEL: 'error',
      // One attempt: the test that makes the function throw need not wait for backoffs.
      MAX_ATTEMPTS: '1',
    },
    onInvocation: (record) => invocations.push(record),
    say: () => {},
  });
});

afterAll(async () => {
  await gateway?.close();
  await emulator?.close();
  rmSync(outDir, { recursive: true, force: true });
});

beforeEach(() => {
  emulator.reset();
  invocations.length = 0;
});

const client = (secret = ROLE.accessKeySecret) =>
  new FCClient(LOCAL.accountId, {
    accessKeyID: ROLE.accessKeyId,
    accessKeySecret: secret,
    securityToken: ROLE.securityToken,
    region: LOCAL.region,
    endpoint: gateway.url,
    timeout: 10_000,
  });

const backupOf = (id: string) => Buffer.from(JSON.stringify({ DBInstanceId: id }));

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** node:http rather than fetch: it sends repeated headers as separate lines. */
function send(
  path: string,
  body: Buffer,
  headers: Record<string, string | string[]> = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${gateway.url}${path}`,
      { method: 'POST', headers: { ...headers, 'content-length': String(body.length) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** An invoke API request signed by fc2's own signer, sent as given, so a test can alter it. */
function signedInvocation(body: Buffer, extra: Record<string, string> = {}) {
  const path = '/2016-08-15/services/dds-backup/functions/dds-backup/invocations';
  const md5 = createHash('md5').update(body).digest('hex');
  const headers: Record<string, string> = {
    date: new Date().toUTCString(),
    'content-type': 'application/octet-stream',
    'content-md5': Buffer.from(md5, 'utf8').toString('base64'),
    'x-fc-account-id': LOCAL.accountId,
    'x-fc-security-token': ROLE.securityToken,
    ...extra,
  };
  headers.authorization = FCClient.getSignature(
    ROLE.accessKeyId,
    ROLE.accessKeySecret,
    'POST',
    path,
    headers,
  );
  return { path, headers };
}

describe('the HTTP trigger', () => {
  it('creates a backup for a signed webhook request and answers 200 with JSON', async () => {
    const body = JSON.stringify({ DBInstanceId: INSTANCE, BackupMethod: 'Snapshot' });
    const reply = await send('/', Buffer.from(body), {
      'content-type': 'application/json',
      ...signWebhook(SECRET, body),
    });

    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toMatch(/^application\/json/);
    const answer = JSON.parse(reply.body);
    expect(answer.summary).toBe('OK');
    expect(emulator.created.map((backup) => backup.DBInstanceId)).toEqual([INSTANCE]);
    expect(answer.results[0].BackupJobId).toBe(emulator.created[0]?.BackupJobId);
  });

  it('refuses an unsigned webhook request with 401 and backs nothing up', async () => {
    const body = Buffer.from(JSON.stringify({ DBInstanceId: INSTANCE }));
    const reply = await send('/', body, { 'content-type': 'application/json' });

    expect(reply.status).toBe(401);
    expect(JSON.parse(reply.body).error.code).toBe('Unauthenticated');
    expect(emulator.created).toEqual([]);
  });

  it('hands over a v1 event with canonical headers and a base64 body for bytes', async () => {
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x41]);
    const reply = await send('/hooks/run%20now?a=1&a=2&b=x', bytes, {
      'content-type': 'application/octet-stream',
      'x-repeated-thing': ['one', 'two'],
    });

    const [record] = invocations;
    expect(record?.functionName).toBe('dds-backup-webhook');
    expect(Buffer.isBuffer(record?.event)).toBe(true);
    const event = JSON.parse(String(record?.event)) as HttpTriggerEvent;
    expect(event.version).toBe('v1');
    expect(event.headers['X-Repeated-Thing']).toBe('one,two');
    expect(event.headers['Content-Type']).toBe('application/octet-stream');
    expect(Object.keys(event.headers).every((name) => /^[A-Z]/.test(name))).toBe(true);
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body, 'base64')).toEqual(bytes);
    expect(event.rawPath).toBe('/hooks/run%20now');
    expect(event.requestContext.http.path).toBe('/hooks/run now');
    expect(event.queryParameters).toEqual({ a: '1,2', b: 'x' });
    expect(event.requestContext.http.method).toBe('POST');
    expect(event.requestContext.requestId).toBe(reply.headers['x-fc-request-id']);
  });

  it('keeps a UTF-8 body as text', async () => {
    await send('/', Buffer.from('{"note":"snapshot ✓"}'), { 'content-type': 'application/json' });

    const event = JSON.parse(String(invocations[0]?.event)) as HttpTriggerEvent;
    expect(event.isBase64Encoded).toBe(false);
    expect(event.body).toBe('{"note":"snapshot ✓"}');
  });

  it('gives the function a context with its s.yaml settings and the role keys', async () => {
    await send('/', Buffer.from('{}'));

    const context = invocations[0]?.context;
    expect(context?.function).toEqual({
      name: 'dds-backup-webhook',
      handler: 'index.handler',
      memory: 256,
      timeout: 30,
    });
    expect(context?.credentials).toEqual(ROLE);
    expect(context?.region).toBe(LOCAL.region);
    expect(context?.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses a body over 32 MB with 413 without invoking the function', async () => {
    const reply = await send('/', Buffer.alloc(32 * 1024 * 1024 + 1, 0x61));

    expect(reply.status).toBe(413);
    expect(invocations).toEqual([]);
  });
});

describe('the invoke API', () => {
  it('returns the result of a synchronous fc2 invocation', async () => {
    const response = await client().invokeFunction('dds-backup', 'dds-backup', backupOf(SHARDED));

    const data = response.data as { summary: string; results: { BackupJobId?: string }[] };
    expect(data.summary).toBe('OK');
    expect(data.results[0]?.BackupJobId).toBe(emulator.created[0]?.BackupJobId);
    expect(invocations[0]?.event).toEqual(backupOf(SHARDED));
  });

  it('reaches a function through a qualified service name', async () => {
    const response = await client().invokeFunction(
      'dds-backup',
      'dds-backup',
      backupOf(SHARDED),
      {},
      'LATEST',
    );

    expect((response.data as { summary: string }).summary).toBe('OK');
  });

  it('runs an async fc2 invocation in the background and the backup appears', async () => {
    const response = await client().invokeFunction('dds-backup', 'dds-backup', backupOf(SHARDED), {
      'x-fc-invocation-type': 'Async',
    });
    expect(response.headers['x-fc-request-id']).toBeDefined();

    await gateway.idle();
    expect(invocations[0]?.async).toBe(true);
    expect(emulator.created.map((backup) => backup.DBInstanceId)).toEqual([SHARDED]);
  });

  it('answers 202 to a signed async request', async () => {
    const body = backupOf(SHARDED);
    const { path, headers } = signedInvocation(body, { 'x-fc-invocation-type': 'Async' });
    const reply = await send(path, body, headers);
    await gateway.idle();

    expect(reply.status).toBe(202);
    expect(emulator.created).toHaveLength(1);
  });

  it('refuses a signature made with the wrong secret', async () => {
    const call = client('not-the-secret').invokeFunction('dds-backup', 'dds-backup', '{}');

    await expect(call).rejects.toMatchObject({ code: 'SignatureNotMatch' });
    expect(invocations).toEqual([]);
  });

  it('refuses a signed request whose body was changed on the way', async () => {
    const { path, headers } = signedInvocation(backupOf(SHARDED));
    const reply = await send(path, backupOf(INSTANCE), headers);

    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body).ErrorCode).toBe('InvalidContentMD5');
    expect(invocations).toEqual([]);
  });

  it('refuses a signed request whose x-fc header was changed on the way', async () => {
    const body = backupOf(SHARDED);
    const { path, headers } = signedInvocation(body);
    const reply = await send(path, body, { ...headers, 'x-fc-invocation-type': 'Async' });

    expect(reply.status).toBe(403);
    expect(JSON.parse(reply.body).ErrorCode).toBe('SignatureNotMatch');
  });

  it('refuses a request without a signature with 401', async () => {
    const reply = await send(
      '/2016-08-15/services/dds-backup/functions/dds-backup/invocations',
      backupOf(SHARDED),
    );

    expect(reply.status).toBe(401);
    expect(JSON.parse(reply.body).ErrorCode).toBe('MissingAuthorization');
    expect(invocations).toEqual([]);
  });

  it('answers a function that throws with UnhandledInvocationError', async () => {
    emulator.setFaults([{ kind: 'serverError', count: 100, action: 'CreateBackup' }]);
    const timer = {
      triggerTime: new Date().toISOString(),
      triggerName: 'nightly',
      payload: JSON.stringify({ DBInstanceId: SHARDED }),
    };

    const response = await client().invokeFunction(
      'dds-backup',
      'dds-backup',
      JSON.stringify(timer),
    );

    expect(response.headers['x-fc-error-type']).toBe('UnhandledInvocationError');
    expect(response.data).toMatchObject({ errorType: 'RetryableFailure' });
    expect(JSON.stringify(response.data)).not.toContain('at ');
  });

  it('answers 404 for a function s.yaml does not define', async () => {
    const call = client().invokeFunction('dds-backup', 'no-such-function', '{}');

    await expect(call).rejects.toMatchObject({ code: 'FunctionNotFound' });
  });
});

describe('startFcGateway', () => {
  it('fails naming npm run build when the bundle is missing', async () => {
    const start = startFcGateway({
      port: 0,
      bundlePath: join(outDir, randomUUID(), 'index.js'),
      functions: FUNCTIONS,
    });

    await expect(start).rejects.toThrow(BundleMissingError);
    await expect(start).rejects.toThrow(/npm run build/);
  });
});
