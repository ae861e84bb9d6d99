// Every trigger shape, from its JSON fixture, ends in real backups on the emulator, signed with
// the role's STS keys, and the result carries each BackupJobId.

import { describe, expect, it } from 'vitest';
import type { HttpAnswer } from '../functions/create-backup/http';
import type { InvocationResult } from '../functions/create-backup/index';
import { signWebhook } from '../shared/webhook-auth';
import {
  eventBuffer,
  eventObject,
  fakeContext,
  INSTANCES,
  ROLE,
  startHarness,
  useHarness,
  WEBHOOK_SECRET,
} from './helpers/fc';

const harness = useHarness();

/** Signs an HTTP fixture's body the way a webhook caller does. */
function signedHttpEvent(name: string): Record<string, unknown> {
  const event = eventObject(name);
  const raw = Buffer.from(String(event.body), event.isBase64Encoded ? 'base64' : 'utf8');
  event.headers = { ...(event.headers as object), ...signWebhook(WEBHOOK_SECRET, raw) };
  return event;
}

function createdIds(): string[] {
  return harness.emulator.created.map((backup) => backup.DBInstanceId).sort();
}

describe('create-backup triggers', () => {
  it('creates a backup for each target when a timer fires', async () => {
    const result = (await harness.handler(
      eventBuffer('timer/nightly'),
      fakeContext(),
    )) as InvocationResult;

    expect(result.trigger).toBe('timer');
    expect(result.summary).toBe('OK');
    expect(createdIds()).toEqual([INSTANCES.cloud, INSTANCES.local]);
    const byId = Object.fromEntries(result.results.map((target) => [target.DBInstanceId, target]));
    expect(byId[INSTANCES.cloud]).toMatchObject({ status: 'created', BackupMethod: 'Snapshot' });
    expect(byId[INSTANCES.local]).toMatchObject({ status: 'created', BackupMethod: 'Logical' });
    for (const target of result.results) {
      const made = harness.emulator.created.find((b) => b.DBInstanceId === target.DBInstanceId);
      expect(target.BackupJobId).toBe(made?.BackupJobId);
      expect(target.RequestId).toMatch(/\S+/);
    }
  });

  it('answers an HTTP trigger with 200 and the created job', async () => {
    const answer = (await harness.handler(
      eventBuffer(signedHttpEvent('http/post-json')),
      fakeContext(),
    )) as HttpAnswer;

    expect(answer.statusCode).toBe(200);
    expect(answer.headers['content-type']).toMatch(/application\/json/);
    const body = JSON.parse(answer.body) as InvocationResult;
    expect(body.trigger).toBe('http');
    expect(body.results).toEqual([
      expect.objectContaining({
        DBInstanceId: INSTANCES.cloud,
        status: 'created',
        BackupJobId: harness.emulator.created[0]?.BackupJobId,
      }),
    ]);
  });

  it('reads a base64 HTTP body with camelCase aliases', async () => {
    const answer = (await harness.handler(
      eventBuffer(signedHttpEvent('http/post-base64')),
      fakeContext(),
    )) as HttpAnswer;

    expect(answer.statusCode).toBe(200);
    expect(createdIds()).toEqual([INSTANCES.cloud, INSTANCES.local]);
    const local = harness.emulator.created.find((b) => b.DBInstanceId === INSTANCES.local);
    expect(local?.BackupMethod).toBe('Physical');
  });

  it('reads the request from HTTP query parameters', async () => {
    const event = eventObject('http/query');
    event.headers = { ...(event.headers as object), ...signWebhook(WEBHOOK_SECRET, '') };

    const answer = (await harness.handler(eventBuffer(event), fakeContext())) as HttpAnswer;

    expect(answer.statusCode).toBe(200);
    expect(harness.emulator.created).toEqual([
      expect.objectContaining({ DBInstanceId: INSTANCES.cloud, BackupMethod: 'Snapshot' }),
    ]);
  });

  it('backs up the targets in an EventBridge CloudEvent', async () => {
    const result = (await harness.handler(
      eventBuffer('eventbridge/custom'),
      fakeContext(),
    )) as InvocationResult;

    expect(result.trigger).toBe('eventbridge');
    expect(result.summary).toBe('OK');
    expect(createdIds()).toEqual([INSTANCES.cloud, INSTANCES.sharded]);
  });

  it('backs up the instance named by a CloudEvent subject ARN', async () => {
    const result = (await harness.handler(
      eventBuffer('eventbridge/instance-arn'),
      fakeContext(),
    )) as InvocationResult;

    expect(result.results).toEqual([
      expect.objectContaining({ DBInstanceId: INSTANCES.local, status: 'created' }),
    ]);
    expect(createdIds()).toEqual([INSTANCES.local]);
  });

  it('accepts an array of EventBridge CloudEvents', async () => {
    const single = eventObject('eventbridge/custom');
    const arn = eventObject('eventbridge/instance-arn');

    const result = (await harness.handler(
      eventBuffer([single, arn]),
      fakeContext(),
    )) as InvocationResult;

    expect(result.summary).toBe('OK');
    expect(createdIds()).toEqual([INSTANCES.cloud, INSTANCES.local, INSTANCES.sharded]);
  });

  it('backs up each message of an MNS queue batch', async () => {
    const result = (await harness.handler(
      eventBuffer('mns-queue/batch'),
      fakeContext(),
    )) as InvocationResult;

    expect(result.trigger).toBe('mns-queue');
    expect(createdIds()).toEqual([INSTANCES.cloud, INSTANCES.standalone]);
  });

  it('backs up what an MNS topic notification names', async () => {
    const result = (await harness.handler(
      eventBuffer('mns-topic/json'),
      fakeContext(),
    )) as InvocationResult;

    expect(result.trigger).toBe('mns-topic');
    expect(harness.emulator.created).toEqual([
      expect.objectContaining({ DBInstanceId: INSTANCES.sharded, BackupMethod: 'Snapshot' }),
    ]);
  });

  it('takes a direct invocation as a Buffer, a string or an object', async () => {
    const asObject = eventObject('direct/single');

    const fromBuffer = (await harness.handler(
      eventBuffer(asObject),
      fakeContext(),
    )) as InvocationResult;
    harness.emulator.reset();
    const fromString = (await harness.handler(
      JSON.stringify(asObject),
      fakeContext(),
    )) as InvocationResult;
    harness.emulator.reset();
    const fromObject = (await harness.handler(asObject, fakeContext())) as InvocationResult;

    for (const result of [fromBuffer, fromString, fromObject]) {
      expect(result.trigger).toBe('direct');
      expect(result.results[0]).toMatchObject({ status: 'created', BackupMethod: 'Snapshot' });
    }
  });

  it('signs with the environment keys when the context has none', async () => {
    const local = await startHarness({
      env: {
        ALIBABA_CLOUD_ACCESS_KEY_ID: ROLE.accessKeyId,
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: ROLE.accessKeySecret,
        ALIBABA_CLOUD_SECURITY_TOKEN: ROLE.securityToken,
      },
    });
    const context = fakeContext();
    delete context.credentials;

    const result = (await local.handler(eventBuffer('direct/single'), context)) as InvocationResult;
    await local.close();

    expect(result.summary).toBe('OK');
    expect(local.emulator.created).toHaveLength(1);
  });

  it('falls back to the default credential chain when neither context nor config has keys', async () => {
    // The chain reads the process environment itself; the ECS metadata service stays off, so
    // nothing here can reach past the local emulator.
    const chainEnv = {
      ALIBABA_CLOUD_ACCESS_KEY_ID: ROLE.accessKeyId,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: ROLE.accessKeySecret,
      ALIBABA_CLOUD_SECURITY_TOKEN: ROLE.securityToken,
      ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true',
    };
    const saved = Object.fromEntries(
      Object.keys(chainEnv).map((name) => [name, process.env[name]]),
    );
    Object.assign(process.env, chainEnv);
    const handler = harness.handlerWith({});
    const context = fakeContext();
    delete context.credentials;

    try {
      const result = (await handler(eventBuffer('direct/single'), context)) as InvocationResult;

      expect(result.summary).toBe('OK');
      expect(harness.emulator.created).toHaveLength(1);
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it('fails every call when the context holds a key the API does not know', async () => {
    const context = fakeContext({
      credentials: { accessKeyId: 'STS.Unknown', accessKeySecret: 'nope-nope', securityToken: 'x' },
    });

    const result = (await harness.handler(
      eventBuffer('direct/single'),
      context,
    )) as InvocationResult;

    expect(result.summary).toBe('FAILED');
    expect(result.results[0]?.error?.code).toBe('InvalidAccessKeyId.NotFound');
    expect(harness.emulator.created).toHaveLength(0);
  });
});
