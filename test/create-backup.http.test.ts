// What each outcome looks like over HTTP: the status codes a webhook caller branches on, and a
// 5xx body that carries a code and a short message only.

import { describe, expect, it } from 'vitest';
import type { FaultSpec } from '../emulator/index';
import type { HttpAnswer } from '../functions/create-backup/http';
import {
  createHandler,
  type FcContext,
  type InvocationResult,
} from '../functions/create-backup/index';
import { signWebhook } from '../shared/webhook-auth';
import {
  eventBuffer,
  eventObject,
  fakeContext,
  guardAgainstLeaks,
  INSTANCES,
  useHarness,
  WEBHOOK_SECRET,
} from './helpers/fc';

const harness = useHarness({ env: { MAX_ATTEMPTS: '2', API_TIMEOUT_MS: '5000' } });

async function post(
  body: string,
  options: { context?: FcContext; faults?: FaultSpec[] } = {},
): Promise<{ status: number; body: InvocationResult; raw: string }> {
  const event = eventObject('http/post-json');
  event.body = body;
  event.headers = { 'Content-Type': 'application/json', ...signWebhook(WEBHOOK_SECRET, body) };
  harness.emulator.setFaults(options.faults ?? []);

  const answer = (await harness.handler(
    eventBuffer(event),
    options.context ?? fakeContext(),
  )) as HttpAnswer;
  return { status: answer.statusCode, body: JSON.parse(answer.body), raw: answer.body };
}

const one = (id: string, extra: object = {}) => JSON.stringify({ DBInstanceId: id, ...extra });

describe('HTTP status codes', () => {
  it('answers 200 when every target is backed up', async () => {
    const { status, body } = await post(one(INSTANCES.cloud));

    expect(status).toBe(200);
    expect(body.summary).toBe('OK');
  });

  it('answers 207 when some targets fail and others succeed', async () => {
    const request = {
      targets: [{ DBInstanceId: INSTANCES.cloud }, { DBInstanceId: INSTANCES.missing }],
    };

    const { status, body } = await post(JSON.stringify(request));

    expect(status).toBe(207);
    expect(body.summary).toBe('PARTIAL');
    expect(body.results.map((target) => target.status).sort()).toEqual(['created', 'failed']);
  });

  it('answers 400 for an invalid request', async () => {
    const { status, body } = await post(one(INSTANCES.cloud, { BackupMethod: 'Incremental' }));

    expect(status).toBe(400);
    expect(body.error?.message).toMatch(/^BackupMethod:/);
  });

  it('answers 400 when the instance refuses the method given', async () => {
    const { status, body } = await post(one(INSTANCES.cloud, { BackupMethod: 'Logical' }));

    expect(status).toBe(400);
    expect(body.results[0]?.error?.code).toBe('InvalidBackupMethod.ValueNotSupport');
  });

  it('answers 404 for an instance that does not exist', async () => {
    const { status, body } = await post(one(INSTANCES.missing, { BackupMethod: 'Snapshot' }));

    expect(status).toBe(404);
    expect(body.results[0]?.error?.code).toBe('InvalidDBInstanceId.NotFound');
  });

  it('answers 409 for an instance that is not Running', async () => {
    const { status, body } = await post(one(INSTANCES.restoring));

    expect(status).toBe(409);
    expect(body.results[0]?.error).toMatchObject({
      code: 'InstanceNotRunning',
      message: `${INSTANCES.restoring} is Restoring; a backup needs it Running`,
    });
  });

  it('answers 409 for a locked instance, told by the API itself', async () => {
    const { status, body } = await post(one(INSTANCES.locked, { BackupMethod: 'Snapshot' }));

    expect(status).toBe(409);
    expect(body.results[0]?.error?.retryable).toBe(false);
  });

  it('answers 429 when the API still throttles after the retries', async () => {
    const { status, body } = await post(one(INSTANCES.cloud, { BackupMethod: 'Snapshot' }), {
      faults: [{ kind: 'throttle', count: 100, code: 'Throttling.User' }],
    });

    // Throttled answers get three times MAX_ATTEMPTS (2 here) before the target fails.
    expect(status).toBe(429);
    expect(body.results[0]).toMatchObject({ attempts: 6, error: { code: 'Throttling.User' } });
  });

  it('answers 502 with a code and a short message when the upstream keeps failing', async () => {
    const { status, body, raw } = await post(one(INSTANCES.cloud, { BackupMethod: 'Snapshot' }), {
      faults: [{ kind: 'html502', count: 10 }],
    });

    expect(status).toBe(502);
    expect(body.results[0]?.error).toEqual({
      code: 'UpstreamUnavailable',
      message: 'the DDS endpoint answered with a body that is not JSON',
      retryable: true,
    });
    expect(raw).not.toMatch(/<html|stack|at \w+ \(/i);
  });

  it('answers 500 naming the variable when the configuration is invalid', async () => {
    const handler = guardAgainstLeaks(
      createHandler({ env: { WEBHOOK_SECRET, DEDUPE_WINDOW_MINUTES: '-5' }, writeLine: () => {} }),
    );
    const event = eventObject('http/post-json');
    event.headers = signWebhook(WEBHOOK_SECRET, String(event.body));

    const answer = (await handler(eventBuffer(event), fakeContext())) as HttpAnswer;

    expect(answer.statusCode).toBe(500);
    expect(JSON.parse(answer.body).error).toEqual({
      code: 'ConfigInvalid',
      message: 'DEDUPE_WINDOW_MINUTES must be a whole number from 0 to 1440',
    });
  });

  it('answers 504 when the invocation runs out of time', async () => {
    const context = fakeContext({ function: { name: 'dds-backup', timeout: 2 } });

    const { status, body } = await post(one(INSTANCES.cloud, { BackupMethod: 'Snapshot' }), {
      context,
      faults: [{ kind: 'hang', count: 10 }],
    });

    expect(status).toBe(504);
    expect(body.results[0]?.error?.code).toBe('DeadlineExceeded');
  });
});
