import { request } from 'node:http';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../emulator/index';
import {
  ddsClient,
  failureOf,
  fakeClock,
  PLAIN_ACCOUNT,
  sendRaw,
  signAcs3,
} from './helpers/emulator';

const INSTANCE = 'dds-bp1a2b3c4d5e6f7g8h';
const OTHER = 'dds-bp1local0ssd0rs01';

const clock = fakeClock();
const emulator: Emulator = await startEmulator({ now: clock.now });
const dds = ddsClient(emulator);
afterAll(() => emulator.close());
beforeEach(() => emulator.reset());

const describeInstance = () => dds.call('DescribeDBInstanceAttribute', { DBInstanceId: INSTANCE });
const backup = (DBInstanceId = INSTANCE) => dds.call('CreateBackup', { DBInstanceId });

interface ControlResponse {
  status: number;
  body: unknown;
}

/** The control endpoint takes plain HTTP with no signature. */
async function control(method: string, path: string, body?: unknown): Promise<ControlResponse> {
  const response = await fetch(`${emulator.url}/__emulator/${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

describe('a throttle fault', () => {
  it('answers the next N matching requests with the code, then expires', async () => {
    emulator.setFaults([
      { kind: 'throttle', count: 2, code: 'Throttling.User', action: 'CreateBackup' },
    ]);

    const described = await describeInstance();
    const first = await failureOf(backup());
    const second = await failureOf(backup(OTHER));
    const third = await backup();

    expect(described.DBInstances).toBeDefined();
    expect([first.code, second.code]).toEqual(['Throttling.User', 'Throttling.User']);
    expect(first.statusCode).toBe(400);
    expect(third.BackupJobId).toMatch(/^\d+$/);
    expect(emulator.created).toHaveLength(1);
  });

  it('answers Throttling when no code is given and matches every action without one', async () => {
    emulator.setFaults([{ kind: 'throttle', count: 1 }]);

    const failure = await failureOf(describeInstance());

    expect(failure).toMatchObject({ code: 'Throttling', statusCode: 400 });
    expect((await describeInstance()).DBInstances).toBeDefined();
  });

  it('is not consumed by a request that fails its signature check', async () => {
    emulator.setFaults([{ kind: 'throttle', count: 1 }]);
    const forged = signAcs3(emulator, {
      action: 'DescribeDBInstanceAttribute',
      query: { DBInstanceId: INSTANCE },
      account: { ...PLAIN_ACCOUNT, accessKeySecret: 'wrong' },
    });

    const refused = await sendRaw(emulator, forged);
    const throttled = await failureOf(describeInstance());

    expect(refused.body.Code).toBe('SignatureDoesNotMatch');
    expect(throttled.code).toBe('Throttling');
  });
});

describe('a rateLimit fault', () => {
  it('answers Throttling.User beyond N requests in one second until the window moves on', async () => {
    emulator.setFaults([{ kind: 'rateLimit', perSecond: 2 }]);

    const burst = await Promise.all(
      [1, 2, 3, 4].map(() =>
        describeInstance().then(
          () => 'ok',
          (e: { code: string }) => e.code,
        ),
      ),
    );
    clock.advance(1001);
    const later = await describeInstance();

    expect(burst.sort()).toEqual(['Throttling.User', 'Throttling.User', 'ok', 'ok']);
    expect(later.DBInstances).toBeDefined();
  });

  it('stays until the faults are cleared', async () => {
    emulator.setFaults([{ kind: 'rateLimit', perSecond: 1 }]);
    await describeInstance();

    const limited = await failureOf(describeInstance());
    emulator.clearFaults();
    const cleared = await describeInstance();

    expect(limited.code).toBe('Throttling.User');
    expect(cleared.DBInstances).toBeDefined();
  });
});

describe('a serverError fault', () => {
  it('answers 500 InternalError with the vendor body by default', async () => {
    emulator.setFaults([{ kind: 'serverError', count: 1 }]);

    const failure = await failureOf(backup());

    expect(failure).toMatchObject({ code: 'InternalError', statusCode: 500 });
    expect(failure.data).toMatchObject({
      RequestId: expect.any(String),
      HostId: emulator.endpoint,
    });
    expect(emulator.created).toEqual([]);
  });

  it('answers 503 ServiceUnavailable when asked', async () => {
    emulator.setFaults([{ kind: 'serverError', count: 1, status: 503 }]);

    expect(await failureOf(backup())).toMatchObject({
      code: 'ServiceUnavailable',
      statusCode: 503,
    });
  });
});

describe('an html502 fault', () => {
  it('answers a text/html 502 page, which the client cannot parse', async () => {
    emulator.setFaults([{ kind: 'html502', count: 2 }]);

    const failure = await failureOf(backup());
    const raw = await rawStatus();

    expect(failure.name).toBe('SyntaxError');
    expect(raw).toEqual({ status: 502, contentType: 'text/html' });
    expect(emulator.created).toEqual([]);
  });

  /** A signed request read as text, since the body is not JSON. */
  async function rawStatus() {
    const signed = signAcs3(emulator, {
      action: 'CreateBackup',
      query: { DBInstanceId: INSTANCE },
    });
    const response = await new Promise<{ status: number; contentType: string }>(
      (resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: emulator.port,
            method: 'POST',
            path: signed.url,
            headers: signed.headers,
          },
          (res) => {
            res.resume();
            resolve({
              status: res.statusCode ?? 0,
              contentType: res.headers['content-type'] ?? '',
            });
          },
        );
        req.on('error', reject);
        req.end();
      },
    );
    return response;
  }
});

describe('a reset fault', () => {
  it('drops the connection before acting, so no backup exists', async () => {
    emulator.setFaults([{ kind: 'reset', count: 1, action: 'CreateBackup' }]);

    const failure = await failureOf(backup());

    expect(failure.code).toBe('ECONNRESET');
    expect(emulator.created).toEqual([]);
    expect(emulator.calls).toEqual([expect.objectContaining({ status: 0, code: 'Reset' })]);
  });

  it('with after:true creates the backup and then drops the response', async () => {
    emulator.setFaults([{ kind: 'reset', count: 1, action: 'CreateBackup', after: true }]);

    const failure = await failureOf(backup());
    const retry = await failureOf(backup());

    expect(failure.code).toBe('ECONNRESET');
    expect(emulator.created).toHaveLength(1);
    expect(retry.code).toBe('OperationDenied.BackupJobExists');
  });
});

describe('a hang fault', () => {
  it('never answers, so a client with a short readTimeout times out', async () => {
    emulator.setFaults([{ kind: 'hang', count: 1 }]);
    const impatient = ddsClient(emulator, { readTimeout: 200 });

    const failure = await failureOf(impatient.call('CreateBackup', { DBInstanceId: INSTANCE }));

    expect(failure.name).toBe('RequestTimeoutError');
    expect(emulator.created).toEqual([]);
  });

  it('with after:true creates the backup before going silent', async () => {
    emulator.setFaults([{ kind: 'hang', count: 1, after: true }]);
    const impatient = ddsClient(emulator, { readTimeout: 200 });

    const failure = await failureOf(impatient.call('CreateBackup', { DBInstanceId: INSTANCE }));

    expect(failure.name).toBe('RequestTimeoutError');
    expect(emulator.created).toHaveLength(1);
  });

  it('is released by close(), which does not wait for the hung request', async () => {
    const own = await startEmulator({ faults: [{ kind: 'hang', count: 1 }] });
    const pending = failureOf(
      ddsClient(own, { readTimeout: 60_000 }).call('CreateBackup', { DBInstanceId: INSTANCE }),
    );
    await waitFor(() => own.calls.length === 1);

    const started = Date.now();
    await own.close();
    const failure = await pending;

    expect(Date.now() - started).toBeLessThan(1000);
    expect(failure.name).not.toBe('RequestTimeoutError');
  });
});

describe('setFaults and reset', () => {
  it('setFaults replaces the active set rather than adding to it', async () => {
    emulator.setFaults([{ kind: 'serverError', count: 5 }]);
    emulator.setFaults([{ kind: 'throttle', count: 1 }]);

    const first = await failureOf(describeInstance());
    const second = await describeInstance();

    expect(first.code).toBe('Throttling');
    expect(second.DBInstances).toBeDefined();
  });

  it('reset empties calls, created and faults', async () => {
    await backup();
    emulator.setFaults([{ kind: 'throttle', count: 3 }]);

    emulator.reset();
    const after = await backup();

    expect(after.BackupJobId).toBe('775051');
    expect(emulator.created).toHaveLength(1);
    expect(emulator.calls).toHaveLength(1);
  });
});

describe('the control endpoint', () => {
  it('PUT /__emulator/faults installs faults that the next request meets', async () => {
    const put = await control('PUT', 'faults', [
      { kind: 'throttle', count: 1, code: 'Throttling.Api' },
    ]);

    const failure = await failureOf(describeInstance());

    expect(put.status).toBe(200);
    expect(failure.code).toBe('Throttling.Api');
  });

  it('PUT /__emulator/faults refuses an unknown fault kind with 400 and keeps the old set', async () => {
    emulator.setFaults([{ kind: 'throttle', count: 1 }]);

    const put = await control('PUT', 'faults', [{ kind: 'explode', count: 1 }]);
    const failure = await failureOf(describeInstance());

    expect(put.status).toBe(400);
    expect(put.body).toEqual({ error: expect.stringContaining('kind') });
    expect(failure.code).toBe('Throttling');
  });

  it('DELETE /__emulator/faults clears them', async () => {
    emulator.setFaults([{ kind: 'serverError', count: 1 }]);

    const deleted = await control('DELETE', 'faults');

    expect(deleted.status).toBe(204);
    expect((await describeInstance()).DBInstances).toBeDefined();
  });

  it('GET /__emulator/state shows instances, created backups and the call count', async () => {
    await backup();

    const state = await control('GET', 'state');

    expect(state.status).toBe(200);
    expect(state.body).toMatchObject({
      calls: 1,
      created: [{ DBInstanceId: INSTANCE, BackupMethod: 'Snapshot' }],
      instances: expect.arrayContaining([expect.objectContaining({ DBInstanceId: INSTANCE })]),
    });
  });

  it('POST /__emulator/reset starts over, with the instances given in the body', async () => {
    await backup();

    const reset = await control('POST', 'reset', [{ DBInstanceId: 'dds-bp1fresh00000001' }]);
    const state = await control('GET', 'state');

    expect(reset.status).toBe(204);
    expect(state.body).toMatchObject({
      calls: 0,
      created: [],
      instances: [{ DBInstanceId: 'dds-bp1fresh00000001' }],
    });
  });

  it('answers 404 for an unknown control route and logs no call', async () => {
    const response = await control('GET', 'nothing');

    expect(response.status).toBe(404);
    expect(emulator.calls).toEqual([]);
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!condition()) throw new Error('condition never became true');
}
