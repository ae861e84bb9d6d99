import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { type Emulator, type InstanceSeed, startEmulator } from '../emulator/index';
import { ddsClient, failureOf, fakeClock, minutes } from './helpers/emulator';

const CLOUD_RS = 'dds-bp1a2b3c4d5e6f7g8h';
const LOCAL_RS = 'dds-bp1local0ssd0rs01';
const STANDALONE = 'dds-bp1single0node001';
const SHARDED = 'dds-bp1shard0cluster01';
const RESTORING = 'dds-bp1restoring00001';
const LOCKED = 'dds-bp1locked0000001';
const EMPTY = 'dds-bp1empty00000001';
const JOB_MS = 10_000;

const clock = fakeClock();
const emulator: Emulator = await startEmulator({ now: clock.now, jobDurationMs: JOB_MS });
const dds = ddsClient(emulator);
afterAll(() => emulator.close());
beforeEach(() => emulator.reset());

const backup = (DBInstanceId: string, extra: Record<string, string> = {}) =>
  dds.call('CreateBackup', { DBInstanceId, ...extra });

const refusal = async (promise: Promise<unknown>) => {
  const { code, statusCode } = await failureOf(promise);
  return { code, statusCode };
};

describe('CreateBackup', () => {
  it('starts a Snapshot job on a cloud-disk replica set and returns a numeric BackupJobId', async () => {
    const body = await backup(CLOUD_RS);

    expect(body.BackupJobId).toMatch(/^\d+$/);
    expect(typeof body.BackupId).toBe('string');
    expect(emulator.created).toEqual([
      expect.objectContaining({
        DBInstanceId: CLOUD_RS,
        BackupMethod: 'Snapshot',
        BackupJobId: body.BackupJobId,
      }),
    ]);
  });

  it.each([
    [CLOUD_RS, 'Logical'],
    [CLOUD_RS, 'Physical'],
    [SHARDED, 'Physical'],
    [LOCAL_RS, 'Snapshot'],
    [LOCAL_RS, 'Incremental'],
  ])(
    'refuses %s with BackupMethod %s as InvalidBackupMethod.ValueNotSupport',
    async (id, method) => {
      expect(await refusal(backup(id, { BackupMethod: method }))).toEqual({
        code: 'InvalidBackupMethod.ValueNotSupport',
        statusCode: 400,
      });
      expect(emulator.created).toEqual([]);
    },
  );

  it.each([
    [CLOUD_RS, 'Snapshot', 'Snapshot'],
    [SHARDED, undefined, 'Snapshot'],
    [LOCAL_RS, undefined, 'Physical'],
    [LOCAL_RS, 'Logical', 'Logical'],
    [STANDALONE, undefined, 'Snapshot'],
  ])('backs up %s given method %s with %s', async (id, method, recorded) => {
    await backup(id, method === undefined ? {} : { BackupMethod: method });

    expect(emulator.created.map((job) => job.BackupMethod)).toEqual([recorded]);
  });

  it('refuses any BackupMethod on a standalone instance, even Snapshot', async () => {
    expect(await refusal(backup(STANDALONE, { BackupMethod: 'Snapshot' }))).toEqual({
      code: 'InvalidBackupMethod.ValueNotSupport',
      statusCode: 400,
    });
  });

  it.each(['-1', '7', '730'])(
    'accepts BackupRetentionPeriod %s on a cloud replica set',
    async (days) => {
      const body = await backup(CLOUD_RS, { BackupRetentionPeriod: days });

      expect(body.BackupJobId).toMatch(/^\d+$/);
    },
  );

  it.each(['0', '6', '731', '-2', '7.5', 'forever'])(
    'refuses BackupRetentionPeriod %s as InvalidBackupRetentionPeriod.ValueNotSupport',
    async (days) => {
      expect(await refusal(backup(SHARDED, { BackupRetentionPeriod: days }))).toEqual({
        code: 'InvalidBackupRetentionPeriod.ValueNotSupport',
        statusCode: 400,
      });
    },
  );

  it.each([LOCAL_RS, STANDALONE])(
    'refuses BackupRetentionPeriod on %s as InvalidBackupRetentionPeriod.InstanceNotSupport',
    async (id) => {
      expect(await refusal(backup(id, { BackupRetentionPeriod: '30' }))).toEqual({
        code: 'InvalidBackupRetentionPeriod.InstanceNotSupport',
        statusCode: 400,
      });
    },
  );

  it('refuses an instance that is not Running with OperationDenied.DBInstanceStatus', async () => {
    expect(await refusal(backup(RESTORING))).toEqual({
      code: 'OperationDenied.DBInstanceStatus',
      statusCode: 403,
    });
  });

  it('refuses a locked instance with IncorrectDBInstanceLockMode', async () => {
    expect(await refusal(backup(LOCKED))).toEqual({
      code: 'IncorrectDBInstanceLockMode',
      statusCode: 403,
    });
  });

  it('refuses an instance without databases with OperationDenied.NoDatabase', async () => {
    expect(await refusal(backup(EMPTY))).toEqual({
      code: 'OperationDenied.NoDatabase',
      statusCode: 403,
    });
  });

  it('refuses a second job while the first runs, and accepts it once the first finished', async () => {
    await backup(CLOUD_RS);

    const refused = await refusal(backup(CLOUD_RS));
    clock.advance(JOB_MS);
    const accepted = await backup(CLOUD_RS);

    expect(refused).toEqual({ code: 'OperationDenied.BackupJobExists', statusCode: 403 });
    expect(accepted.BackupJobId).toMatch(/^\d+$/);
    expect(emulator.created).toHaveLength(2);
  });

  it('refuses an unknown instance with 404 InvalidDBInstanceId.NotFound', async () => {
    expect(await refusal(backup('dds-bp1doesnotexist00'))).toEqual({
      code: 'InvalidDBInstanceId.NotFound',
      statusCode: 404,
    });
  });

  it('refuses a call without DBInstanceId with MissingDBInstanceId', async () => {
    expect(await refusal(dds.call('CreateBackup', {}))).toEqual({
      code: 'MissingDBInstanceId',
      statusCode: 400,
    });
  });
});

describe('a backup job', () => {
  it('moves Scheduled, Checking, Backuping, then leaves DescribeBackupTasks when Finished', async () => {
    const { BackupJobId } = await backup(CLOUD_RS);
    const tasks = async () =>
      (await dds.call('DescribeBackupTasks', { DBInstanceId: CLOUD_RS })).BackupJobs as {
        BackupSetStatus: string;
        Progress: string;
      }[];

    const seen: string[] = [];
    for (const share of [0.15, 0.45, 0.4]) {
      const [job] = await tasks();
      seen.push(`${job?.BackupSetStatus} ${job?.Progress}`);
      clock.advance(share * JOB_MS);
    }

    expect(BackupJobId).toMatch(/^\d+$/);
    expect(seen).toEqual(['Scheduled 0%', 'Checking 15%', 'Backuping 60%']);
    expect(await tasks()).toEqual([]);
  });

  it('is listed by DescribeBackupTasks with a lower-case BackupjobId', async () => {
    const { BackupJobId } = await backup(SHARDED);
    clock.advance(JOB_MS / 2);

    const body = await dds.call('DescribeBackupTasks', {
      DBInstanceId: SHARDED,
      BackupJobId: String(BackupJobId),
    });

    expect(body.BackupJobs).toEqual([
      {
        BackupjobId: BackupJobId,
        BackupSetStatus: 'Backuping',
        BackupStartTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
        Progress: '50%',
        JobMode: 'Manual',
      },
    ]);
  });

  it('appears in DescribeBackups as a Success Manual backup once Finished', async () => {
    const start = minutes(clock.now() - 60_000);
    const { BackupJobId } = await backup(CLOUD_RS);
    const query = () => ({
      DBInstanceId: CLOUD_RS,
      StartTime: start,
      EndTime: minutes(clock.now() + 60_000),
      PageSize: '30',
      PageNumber: '1',
    });

    const before = await dds.call('DescribeBackups', query());
    clock.advance(JOB_MS);
    const after = await dds.call('DescribeBackups', query());

    expect(before.TotalCount).toBe(0);
    expect(after).toMatchObject({ TotalCount: 1, PageNumber: 1, PageSize: 30 });
    expect(after.Backups).toEqual({
      Backup: [
        expect.objectContaining({
          BackupJobId,
          BackupStatus: 'Success',
          BackupMode: 'Manual',
          BackupMethod: 'Snapshot',
          BackupSize: expect.any(Number),
          BackupEndTime: expect.stringMatching(/Z$/),
        }),
      ],
    });
  });
});

describe('DescribeBackups', () => {
  const range = { StartTime: '2020-01-01T00:00Z', EndTime: '2099-01-01T00:00Z' };

  it('leaves out backups that started outside [StartTime, EndTime]', async () => {
    await backup(CLOUD_RS);
    clock.advance(JOB_MS);
    const earlier = minutes(clock.now() - 3_600_000);

    const body = await dds.call('DescribeBackups', {
      DBInstanceId: CLOUD_RS,
      StartTime: earlier,
      EndTime: earlier,
    });

    expect(body.TotalCount).toBe(0);
  });

  it('refuses a PageSize other than 30, 50 or 100', async () => {
    expect(
      await refusal(
        dds.call('DescribeBackups', { DBInstanceId: CLOUD_RS, ...range, PageSize: '10' }),
      ),
    ).toEqual({
      code: 'InvalidPageSize.ValueNotSupport',
      statusCode: 400,
    });
  });

  it('refuses StartTime with seconds as InvalidStartTime.Malformed', async () => {
    const StartTime = '2024-01-01T00:00:00Z';

    expect(
      await refusal(dds.call('DescribeBackups', { DBInstanceId: CLOUD_RS, ...range, StartTime })),
    ).toEqual({
      code: 'InvalidStartTime.Malformed',
      statusCode: 400,
    });
  });

  it('filters by BackupJobId', async () => {
    await backup(LOCAL_RS);
    clock.advance(JOB_MS);
    const { BackupJobId } = await backup(LOCAL_RS);
    clock.advance(JOB_MS);

    const body = await dds.call('DescribeBackups', {
      DBInstanceId: LOCAL_RS,
      ...range,
      BackupJobId: String(BackupJobId),
    });

    expect(body.TotalCount).toBe(1);
    expect(body.Backups).toEqual({ Backup: [expect.objectContaining({ BackupJobId })] });
  });
});

describe('DescribeBackupTasks', () => {
  it('lists nothing for a local-disk instance, which the vendor does not cover', async () => {
    await backup(LOCAL_RS);

    const body = await dds.call('DescribeBackupTasks', { DBInstanceId: LOCAL_RS });

    expect(body.BackupJobs).toEqual([]);
  });
});

describe('DescribeDBInstanceAttribute', () => {
  it('returns the instance fields, tags wrapped in Tags.Tag', async () => {
    const body = await dds.call('DescribeDBInstanceAttribute', { DBInstanceId: LOCAL_RS });

    expect(body.DBInstances).toEqual({
      DBInstance: [
        {
          DBInstanceId: LOCAL_RS,
          DBInstanceStatus: 'Running',
          DBInstanceType: 'replicate',
          ReplicationFactor: '3',
          StorageType: 'local_ssd',
          EngineVersion: '4.4',
          LockMode: 'Unlock',
          RegionId: 'cn-hangzhou',
          Tags: {
            Tag: [
              { Key: 'env', Value: 'prod' },
              { Key: 'team', Value: 'orders' },
            ],
          },
        },
      ],
    });
  });

  it('answers 404 InvalidDBInstanceId.NotFound for an unknown instance', async () => {
    expect(
      await refusal(dds.call('DescribeDBInstanceAttribute', { DBInstanceId: 'dds-bp1nothere000' })),
    ).toEqual({
      code: 'InvalidDBInstanceId.NotFound',
      statusCode: 404,
    });
  });
});

describe('DescribeDBInstances', () => {
  const seeds: InstanceSeed[] = Array.from({ length: 7 }, (_, i) => ({
    DBInstanceId: `dds-bp1page${String(i).padStart(6, '0')}`,
    Tags: [
      { Key: 'env', Value: i % 2 === 0 ? 'prod' : 'dev' },
      ...(i < 2 ? [{ Key: 'backup', Value: 'on' }] : []),
    ],
  }));
  const ids = (body: Record<string, unknown>) =>
    (body.DBInstances as { DBInstance: { DBInstanceId: string }[] }).DBInstance.map(
      (i) => i.DBInstanceId,
    );

  it('keeps only instances carrying every given tag', async () => {
    emulator.reset(seeds);

    const body = await dds.call('DescribeDBInstances', {
      RegionId: 'cn-hangzhou',
      'Tag.1.Key': 'env',
      'Tag.1.Value': 'prod',
      'Tag.2.Key': 'backup',
      'Tag.2.Value': 'on',
    });

    expect(ids(body)).toEqual(['dds-bp1page000000']);
    expect(body.TotalCount).toBe(1);
  });

  it('pages through the matches with PageNumber and PageSize', async () => {
    emulator.reset(seeds);
    const page = (PageNumber: string) =>
      dds.call('DescribeDBInstances', { RegionId: 'cn-hangzhou', PageSize: '3', PageNumber });

    const pages = await Promise.all(['1', '2', '3', '4'].map(page));

    expect(pages.map(ids)).toEqual([
      seeds.slice(0, 3).map((s) => s.DBInstanceId),
      seeds.slice(3, 6).map((s) => s.DBInstanceId),
      [seeds[6]?.DBInstanceId],
      [],
    ]);
    expect(pages.map((p) => p.TotalCount)).toEqual([7, 7, 7, 7]);
  });

  it('filters by region and status', async () => {
    const beijing = await dds.call('DescribeDBInstances', { RegionId: 'cn-beijing' });
    const restoring = await dds.call('DescribeDBInstances', {
      RegionId: 'cn-hangzhou',
      DBInstanceStatus: 'Restoring',
    });

    expect(ids(beijing)).toEqual(['dds-2zebeijing0000001']);
    expect(ids(restoring)).toEqual([RESTORING]);
  });

  it('refuses a call without RegionId with MissingRegionId', async () => {
    expect(await refusal(dds.call('DescribeDBInstances', {}))).toEqual({
      code: 'MissingRegionId',
      statusCode: 400,
    });
  });

  it('refuses Tag.21 as InvalidTag.Malformed', async () => {
    const query = { RegionId: 'cn-hangzhou', 'Tag.21.Key': 'env' };

    expect(await refusal(dds.call('DescribeDBInstances', query))).toEqual({
      code: 'InvalidTag.Malformed',
      statusCode: 400,
    });
  });
});

describe('the gateway', () => {
  it('answers an unknown action with 404 InvalidAction.NotFound', async () => {
    expect(await refusal(dds.call('DeleteDBInstance', { DBInstanceId: CLOUD_RS }))).toEqual({
      code: 'InvalidAction.NotFound',
      statusCode: 404,
    });
  });

  it('logs every call with its action, instance and outcome', async () => {
    await backup(CLOUD_RS);
    await refusal(backup(CLOUD_RS));

    expect(emulator.calls).toEqual([
      { action: 'CreateBackup', DBInstanceId: CLOUD_RS, status: 200, at: clock.now() },
      {
        action: 'CreateBackup',
        DBInstanceId: CLOUD_RS,
        status: 403,
        code: 'OperationDenied.BackupJobExists',
        at: clock.now(),
      },
    ]);
  });
});
