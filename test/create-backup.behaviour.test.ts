// The function's choices: which method an instance gets when none is named, what a dry run
// does, how configuration errors surface, and what the log trail holds.

import { describe, expect, it } from 'vitest';
import { createHandler, type InvocationResult } from '../functions/create-backup/index';
import { callsOf, eventBuffer, fakeContext, INSTANCES, useHarness } from './helpers/fc';

const harness = useHarness();

async function invoke(request: object): Promise<InvocationResult> {
  return (await harness.handler(eventBuffer(request), fakeContext())) as InvocationResult;
}

describe('choosing a backup method', () => {
  it.each([
    ['a cloud-disk replica set', INSTANCES.cloud, 'Snapshot'],
    ['a sharded cluster on cloud disks', INSTANCES.sharded, 'Snapshot'],
    ['a local-disk replica set', INSTANCES.local, 'Physical'],
  ])('picks what %s accepts', async (_, id, method) => {
    const result = await invoke({ DBInstanceId: id });

    expect(result.results[0]).toMatchObject({ status: 'created', BackupMethod: method });
    expect(harness.emulator.created).toEqual([expect.objectContaining({ BackupMethod: method })]);
    expect(callsOf(harness.emulator, 'DescribeDBInstanceAttribute')).toHaveLength(1);
  });

  it('sends no method for a standalone instance', async () => {
    const result = await invoke({ DBInstanceId: INSTANCES.standalone });

    expect(result.results[0]?.status).toBe('created');
    expect(result.results[0]?.BackupMethod).toBeUndefined();
    expect(harness.emulator.created).toHaveLength(1);
  });

  it('refuses a locked instance before CreateBackup', async () => {
    const result = await invoke({ DBInstanceId: INSTANCES.locked });

    expect(result.results[0]?.error).toMatchObject({
      code: 'InstanceLocked',
      message: expect.stringContaining('ManualLock'),
    });
    expect(callsOf(harness.emulator, 'CreateBackup')).toHaveLength(0);
  });

  it('skips the instance look-up when the method is given', async () => {
    await invoke({ DBInstanceId: INSTANCES.cloud, BackupMethod: 'Snapshot' });

    expect(callsOf(harness.emulator, 'DescribeDBInstanceAttribute')).toHaveLength(0);
    expect(callsOf(harness.emulator, 'CreateBackup')).toHaveLength(1);
  });
});

describe('dry runs', () => {
  it('reports what would be done and creates nothing', async () => {
    const result = await invoke(JSON.parse(eventBuffer('direct/dry-run').toString()));

    expect(result.summary).toBe('OK');
    expect(result.results).toEqual([
      expect.objectContaining({
        DBInstanceId: INSTANCES.cloud,
        status: 'dry-run',
        BackupMethod: 'Snapshot',
      }),
      expect.objectContaining({
        DBInstanceId: INSTANCES.local,
        status: 'dry-run',
        BackupMethod: 'Physical',
      }),
    ]);
    expect(callsOf(harness.emulator, 'CreateBackup')).toHaveLength(0);
  });

  it('says when a real run would be deduplicated', async () => {
    await invoke({ DBInstanceId: INSTANCES.cloud, BackupMethod: 'Snapshot' });
    const job = harness.emulator.created[0];

    const result = await invoke({
      DBInstanceId: INSTANCES.cloud,
      BackupMethod: 'Snapshot',
      dryRun: true,
    });

    expect(result.results[0]).toMatchObject({
      status: 'dry-run',
      detail: expect.stringMatching(/^would be deduplicated: .*; nothing was created$/),
    });
    expect(harness.emulator.created).toEqual([job]);
  });

  it('still reports a target that would fail', async () => {
    const result = await invoke({ DBInstanceId: INSTANCES.restoring, dryRun: true });

    expect(result.results[0]).toMatchObject({
      status: 'failed',
      error: { code: 'InstanceNotRunning' },
    });
  });
});

describe('configuration', () => {
  it.each([
    [{ MAX_ATTEMPTS: 'many' }, 'MAX_ATTEMPTS must be a whole number from 1 to 10'],
    [{ DDS_ENDPOINT: 'ftp://example' }, 'DDS_ENDPOINT must be host[:port]'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be one of debug, info, warn, error'],
    [
      { ALLOWED_INSTANCE_IDS: 'dds-bp1cloudrs0001,prod-db' },
      'ALLOWED_INSTANCE_IDS holds "prod-db"',
    ],
    [{ WEBHOOK_SECRET: 'short' }, 'WEBHOOK_SECRET must hold secrets of at least 16 characters'],
    [
      { WEBHOOK_SECRET: 'a-long-enough-new-secret,old' },
      'WEBHOOK_SECRET must hold secrets of at least 16 characters',
    ],
    [{ ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAIkeyonly' }, 'ALIBABA_CLOUD_ACCESS_KEY_SECRET is missing'],
    [{ DDS_VPC_ENDPOINT: 'yes' }, 'DDS_VPC_ENDPOINT must be true or false'],
  ])('names the variable when %o is wrong, and calls nothing', async (env, message) => {
    const lines: string[] = [];
    const handler = createHandler({ env, writeLine: (line) => lines.push(line) });

    const result = (await handler(eventBuffer('direct/single'), fakeContext())) as InvocationResult;

    expect(result.error?.code).toBe('ConfigInvalid');
    expect(result.error?.message).toContain(message);
    expect(lines.map((line) => JSON.parse(line).level)).toContain('error');
  });

  it('fails a target that names no region when none is configured', async () => {
    const handler = createHandler({ env: {}, writeLine: () => {} });
    const context = fakeContext();
    delete context.region;

    const result = (await handler(eventBuffer('direct/single'), context)) as InvocationResult;

    expect(result.error?.message).toMatch(/^RegionId: .* neither DDS_REGION nor FC_REGION/);
  });
});

describe('the log trail', () => {
  it('writes one JSON object per line with the fixed keys', async () => {
    await invoke({ DBInstanceId: INSTANCES.cloud, BackupMethod: 'Snapshot' });

    expect(
      harness.rawLogs.every((line) => line.endsWith('\n') && !line.slice(0, -1).includes('\n')),
    ).toBe(true);
    for (const line of harness.logs) {
      expect(line).toMatchObject({
        time: expect.any(String),
        level: expect.stringMatching(/^(debug|info|warn|error)$/),
        msg: expect.any(String),
        requestId: 'c0ffee00-test-4000-8000-000000000001',
        functionName: 'dds-backup',
        coldStart: expect.any(Boolean),
      });
    }
  });

  it('logs each target with its job and one summary per invocation', async () => {
    await invoke({ DBInstanceId: INSTANCES.cloud, BackupMethod: 'Snapshot' });
    const job = harness.emulator.created[0];

    const target = harness.logs.find((line) => line.msg === 'target created');
    expect(target).toMatchObject({
      trigger: 'direct',
      DBInstanceId: INSTANCES.cloud,
      BackupMethod: 'Snapshot',
      status: 'created',
      BackupJobId: job?.BackupJobId,
      apiRequestId: expect.any(String),
      attempt: 1,
      durationMs: expect.any(Number),
    });
    const summaries = harness.logs.filter((line) => line.msg === 'run summary');
    expect(summaries).toEqual([expect.objectContaining({ summary: 'OK', created: 1, failed: 0 })]);
  });

  it('marks only the first invocation of a handler as a cold start', async () => {
    const lines: Array<{ coldStart: boolean }> = [];
    const handler = createHandler({
      env: { DDS_ENDPOINT: harness.emulator.url, DDS_REGION: 'cn-hangzhou' },
      writeLine: (line) => lines.push(JSON.parse(line)),
    });

    await handler(eventBuffer({ DBInstanceId: INSTANCES.cloud, dryRun: true }), fakeContext());
    const firstRun = lines.length;
    await handler(eventBuffer({ DBInstanceId: INSTANCES.cloud, dryRun: true }), fakeContext());

    expect(lines.slice(0, firstRun).every((line) => line.coldStart)).toBe(true);
    expect(lines.slice(firstRun).every((line) => !line.coldStart)).toBe(true);
  });

  it('drops lines below LOG_LEVEL', async () => {
    const lines: Array<{ level: string }> = [];
    const handler = createHandler({
      env: { DDS_ENDPOINT: harness.emulator.url, DDS_REGION: 'cn-hangzhou', LOG_LEVEL: 'warn' },
      writeLine: (line) => lines.push(JSON.parse(line)),
    });

    await handler(eventBuffer({ DBInstanceId: INSTANCES.restoring }), fakeContext());

    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((line) => line.level === 'warn' || line.level === 'error')).toBe(true);
  });
});
