// Bad input is refused before any API call, with an error naming the field, at error level in
// the log, and without throwing (FC would retry a throw).

import { describe, expect, it } from 'vitest';
import type { InvocationResult } from '../functions/create-backup/index';
import { parseBackupRequest } from '../shared/request';
import { eventBuffer, fakeContext, INSTANCES, useHarness } from './helpers/fc';

const harness = useHarness();

const cloud = INSTANCES.cloud;

const refusals: Array<[string, unknown, RegExp]> = [
  ['a malformed instance id', { DBInstanceId: 'mongo-1' }, /^DBInstanceId: must be an instance id/],
  ['an upper-case instance id', { DBInstanceId: 'dds-BP1ABCDEF' }, /^DBInstanceId:/],
  [
    'an unknown method',
    { DBInstanceId: cloud, BackupMethod: 'Full' },
    /^BackupMethod: must be one of/,
  ],
  [
    'a retention below 7 days',
    { DBInstanceId: cloud, BackupRetentionPeriod: 3 },
    /^BackupRetentionPeriod:/,
  ],
  [
    'a retention above 730 days',
    { DBInstanceId: cloud, BackupRetentionPeriod: 731 },
    /^BackupRetentionPeriod:/,
  ],
  [
    'a fractional retention',
    { DBInstanceId: cloud, BackupRetentionPeriod: 7.5 },
    /^BackupRetentionPeriod:/,
  ],
  [
    'a retention given as text',
    { DBInstanceId: cloud, BackupRetentionPeriod: '30' },
    /^BackupRetentionPeriod:/,
  ],
  ['an unknown field', { DBInstanceId: cloud, Bakcup: 1 }, /^Bakcup: is not a known field/],
  [
    'an unknown field in a target',
    { targets: [{ DBInstanceId: cloud, when: 'now' }] },
    /^targets\[0\]\.when: is not a known field/,
  ],
  [
    'a bad method in the second target',
    { targets: [{ DBInstanceId: cloud }, { DBInstanceId: INSTANCES.local, method: 'x' }] },
    /^targets\[1\]\.method:/,
  ],
  ['no instance at all', { BackupMethod: 'Snapshot' }, /^DBInstanceId: is required/],
  [
    'a target without an id',
    { targets: [{ BackupMethod: 'Snapshot' }] },
    /^targets\[0\]\.DBInstanceId: is required/,
  ],
  ['an empty target list', { targets: [] }, /^targets: must name at least one target/],
  [
    'more than 500 targets',
    {
      targets: Array.from({ length: 501 }, (_, i) => ({
        DBInstanceId: `dds-${String(i).padStart(6, '0')}`,
      })),
    },
    /^targets: must name at most 500/,
  ],
  [
    'an id and a target list',
    { DBInstanceId: cloud, targets: [{ DBInstanceId: cloud }] },
    /either one DBInstanceId or a targets list/,
  ],
  [
    'a field and its alias',
    { DBInstanceId: cloud, instanceId: cloud },
    /^DBInstanceId: give DBInstanceId or instanceId, not both/,
  ],
  [
    'the same instance twice',
    { targets: [{ DBInstanceId: cloud }, { instanceId: cloud }] },
    /^targets\[1\]\.DBInstanceId: .* is already targets\[0\]/,
  ],
  [
    'a dryRun that is not a boolean',
    { DBInstanceId: cloud, dryRun: 'yes' },
    /^dryRun: must be true or false/,
  ],
  [
    'a malformed region',
    { DBInstanceId: cloud, RegionId: 'Hangzhou!' },
    /^RegionId: must be a region id/,
  ],
  ['a list that holds no CloudEvent', [1, 2], /^event: a list must hold CloudEvents/],
  ['a number', 42, /^event: must be a JSON object/],
];

describe('request validation', () => {
  it.each(refusals)(
    'refuses %s, naming the field, with no API call',
    async (_, request, message) => {
      const result = (await harness.handler(
        eventBuffer(request as object),
        fakeContext(),
      )) as InvocationResult;

      expect(result.summary).toBe('FAILED');
      expect(result.error?.code).toBe('InvalidRequest');
      expect(result.error?.message).toMatch(message);
      expect(harness.emulator.calls).toHaveLength(0);
      const refusal = harness.logs.find((line) => line.msg === 'invocation refused');
      expect(refusal).toMatchObject({ level: 'error', errorCode: 'InvalidRequest' });
    },
  );

  it('refuses a body that is not JSON without throwing', async () => {
    const result = (await harness.handler(
      Buffer.from('{"DBInstanceId":'),
      fakeContext(),
    )) as InvocationResult;

    expect(result.error).toEqual({ code: 'InvalidRequest', message: 'event: is not valid JSON' });
    expect(harness.emulator.calls).toHaveLength(0);
  });

  it('refuses a timer payload that is not JSON', async () => {
    const event = {
      triggerTime: '2026-12-03T02:00:00Z',
      triggerName: 'nightly',
      payload: 'backup please',
    };

    const result = (await harness.handler(eventBuffer(event), fakeContext())) as InvocationResult;

    expect(result.trigger).toBe('timer');
    expect(result.error?.message).toBe('payload: is not valid JSON');
  });

  it('refuses __proto__ keys instead of merging them', async () => {
    const body = `{"DBInstanceId":"${cloud}","__proto__":{"polluted":true}}`;

    const result = (await harness.handler(Buffer.from(body), fakeContext())) as InvocationResult;

    expect(result.error?.message).toBe('event: the field name __proto__ is not allowed');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('reports a bad message of an MNS batch and still backs up the good one', async () => {
    const batch = JSON.parse(eventBuffer('mns-queue/batch').toString()) as Array<{
      data: { messageBody: string };
    }>;
    const second = batch[1];
    if (second === undefined) throw new Error('fixture lost its second message');
    second.data.messageBody = '{"DBInstanceId":"not-an-id"}';

    const result = (await harness.handler(eventBuffer(batch), fakeContext())) as InvocationResult;

    expect(result.summary).toBe('PARTIAL');
    expect(harness.emulator.created.map((backup) => backup.DBInstanceId)).toEqual([cloud]);
    expect(result.results).toContainEqual(
      expect.objectContaining({
        DBInstanceId: '(events[1])',
        status: 'failed',
        error: expect.objectContaining({ message: expect.stringMatching(/^DBInstanceId:/) }),
      }),
    );
  });
});

describe('request parsing', () => {
  it('applies request-level method and retention to targets that give none', () => {
    const request = parseBackupRequest({
      BackupMethod: 'Snapshot',
      BackupRetentionPeriod: 30,
      targets: [{ DBInstanceId: cloud }, { DBInstanceId: INSTANCES.local, method: 'Logical' }],
    });

    expect(request.targets).toEqual([
      { DBInstanceId: cloud, BackupMethod: 'Snapshot', BackupRetentionPeriod: 30 },
      { DBInstanceId: INSTANCES.local, BackupMethod: 'Logical', BackupRetentionPeriod: 30 },
    ]);
  });

  it('accepts -1 as keep forever and the camelCase aliases', () => {
    const request = parseBackupRequest({
      instanceId: cloud,
      retentionPeriod: -1,
      regionId: 'cn-beijing',
    });

    expect(request).toEqual({
      targets: [{ DBInstanceId: cloud, BackupRetentionPeriod: -1, RegionId: 'cn-beijing' }],
      dryRun: false,
    });
  });

  it('accepts the accepted edges of the retention range', () => {
    for (const days of [7, 730]) {
      const request = parseBackupRequest({ DBInstanceId: cloud, BackupRetentionPeriod: days });
      expect(request.targets[0]?.BackupRetentionPeriod).toBe(days);
    }
  });
});
