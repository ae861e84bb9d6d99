// Choosing instances by tag: DescribeDBInstances names them, page by page, and each is then
// backed up like a named target, allow-list and dedupe included.

import { describe, expect, it } from 'vitest';
import type { InstanceSeed } from '../emulator/index';
import type { HttpAnswer } from '../functions/create-backup/http';
import { type InvocationResult, RetryableFailure } from '../functions/create-backup/index';
import { signWebhook } from '../shared/webhook-auth';
import {
  callsOf,
  eventBuffer,
  eventObject,
  fakeContext,
  INSTANCES,
  startHarness,
  TEST_INSTANCES,
  useHarness,
  WEBHOOK_SECRET,
} from './helpers/fc';

const harness = useHarness();

const daily = { tags: { backup: 'daily' }, BackupMethod: 'Snapshot' };

async function invoke(request: object): Promise<InvocationResult> {
  return (await harness.handler(eventBuffer(request), fakeContext())) as InvocationResult;
}

const timer = (request: object) => ({
  triggerTime: '2026-12-03T02:00:00Z',
  triggerName: 'nightly',
  payload: JSON.stringify(request),
});

describe('tag selection', () => {
  it('backs up every instance that carries the tags', async () => {
    const result = await invoke(daily);

    expect(result.summary).toBe('OK');
    expect(harness.emulator.created.map((backup) => backup.DBInstanceId).sort()).toEqual([
      INSTANCES.cloud,
      INSTANCES.sharded,
    ]);
    expect(harness.logs).toContainEqual(
      expect.objectContaining({ msg: 'tags selected instances', targets: 2 }),
    );
  });

  it('chooses each method from the listing itself, with no further look-up', async () => {
    await invoke({ tags: { backup: 'weekly' } });

    expect(harness.emulator.created).toEqual([
      expect.objectContaining({ DBInstanceId: INSTANCES.local, BackupMethod: 'Physical' }),
    ]);
    expect(callsOf(harness.emulator, 'DescribeDBInstanceAttribute')).toHaveLength(0);
  });

  it('requires every tag to match', async () => {
    await invoke({ ...daily, tags: { backup: 'daily', env: 'prod' } });

    expect(harness.emulator.created.map((backup) => backup.DBInstanceId)).toEqual([
      INSTANCES.sharded,
    ]);
  });

  it('reads every page of a large selection', async () => {
    const many: InstanceSeed[] = Array.from({ length: 230 }, (_, index) => ({
      DBInstanceId: `dds-bp1fleet${String(index).padStart(5, '0')}`,
      Tags: [{ Key: 'fleet', Value: 'orders' }],
    }));
    harness.emulator.reset([...TEST_INSTANCES, ...many]);

    const result = await invoke({ tags: { fleet: 'orders' }, BackupMethod: 'Snapshot' });

    expect(result.summary).toBe('OK');
    expect(new Set(harness.emulator.created.map((backup) => backup.DBInstanceId)).size).toBe(230);
    expect(harness.emulator.created).toHaveLength(230);
    expect(callsOf(harness.emulator, 'DescribeDBInstances')).toHaveLength(3);
  });

  it('refuses a selection of nothing, naming the tags, with 404 over HTTP', async () => {
    const body = JSON.stringify({ tags: { backup: 'hourly' } });
    const event = {
      ...eventObject('http/post-json'),
      body,
      headers: signWebhook(WEBHOOK_SECRET, body),
    };

    const answer = (await harness.handler(eventBuffer(event), fakeContext())) as HttpAnswer;

    expect(answer.statusCode).toBe(404);
    expect(JSON.parse(answer.body).error).toEqual({
      code: 'NoInstanceSelected',
      message: 'tags: no instance in cn-hangzhou has the tags backup=hourly',
    });
    expect(callsOf(harness.emulator, 'CreateBackup')).toHaveLength(0);
  });

  it('refuses a selection over 500 instances before backing any up', async () => {
    const many: InstanceSeed[] = Array.from({ length: 501 }, (_, index) => ({
      DBInstanceId: `dds-bp1huge${String(index).padStart(5, '0')}`,
      Tags: [{ Key: 'fleet', Value: 'huge' }],
    }));
    harness.emulator.reset(many);

    const result = await invoke({ tags: { fleet: 'huge' }, BackupMethod: 'Snapshot' });

    expect(result.error?.message).toBe('tags: fleet=huge select 501 instances; the limit is 500');
    expect(callsOf(harness.emulator, 'CreateBackup')).toHaveLength(0);
  });

  it('keeps the allow-list: selected instances outside it are refused without a call', async () => {
    const handler = harness.handlerWith({ ALLOWED_INSTANCE_IDS: INSTANCES.cloud });

    const result = (await handler(eventBuffer(daily), fakeContext())) as InvocationResult;

    expect(result.summary).toBe('PARTIAL');
    expect(result.results).toContainEqual(
      expect.objectContaining({
        DBInstanceId: INSTANCES.sharded,
        error: expect.objectContaining({ code: 'NotAllowed' }),
      }),
    );
    const touched = harness.emulator.calls.map((call) => call.DBInstanceId).filter(Boolean);
    expect(touched).not.toContain(INSTANCES.sharded);
  });

  it('leaves a timer run to FC when the listing keeps failing', async () => {
    const local = await startHarness({ env: { MAX_ATTEMPTS: '2' } });
    local.emulator.setFaults([
      { kind: 'serverError', count: 10, status: 503, action: 'DescribeDBInstances' },
    ]);

    const run = local.handler(eventBuffer(timer(daily)), fakeContext());

    await expect(run).rejects.toThrow(RetryableFailure);
    await local.close();
    expect(local.emulator.created).toHaveLength(0);
  });

  it.each([
    [
      { tags: { backup: 'daily' }, DBInstanceId: INSTANCES.cloud },
      /^tags: choose instances by tags or by id/,
    ],
    [{ tags: {} }, /^tags: must name 1 to 20 tags/],
    [{ tags: { backup: 7 } }, /^tags\.backup: must be text/],
    [{ tags: ['backup'] }, /^tags: must be an object of tag keys and values/],
  ])('refuses %o with an error naming tags', async (request, message) => {
    const result = await invoke(request);

    expect(result.error?.code).toBe('InvalidRequest');
    expect(result.error?.message).toMatch(message);
    expect(harness.emulator.calls).toHaveLength(0);
  });
});
