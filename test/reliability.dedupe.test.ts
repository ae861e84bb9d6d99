// No instance gets a second backup it did not ask for: a timer that fires twice, a webhook
// sent twice and FC's async retry all end with one backup.

import { afterEach, describe, expect, it } from 'vitest';
import type { HttpAnswer } from '../functions/create-backup/http';
import { type InvocationResult, RetryableFailure } from '../functions/create-backup/index';
import { signWebhook } from '../shared/webhook-auth';
import {
  callsOf,
  eventBuffer,
  eventObject,
  fakeContext,
  type Harness,
  type HarnessOptions,
  INSTANCES,
  startHarness,
  WEBHOOK_SECRET,
} from './helpers/fc';

let harness: Harness | undefined;

async function start(options: HarnessOptions = {}): Promise<Harness> {
  harness = await startHarness(options);
  return harness;
}

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** Lets the emulator finish its backup jobs, so the next look-up finds them in DescribeBackups. */
const jobsFinish = () => new Promise((resolve) => setTimeout(resolve, 80));

describe('dedupe', () => {
  it('creates one backup when the same timer event fires twice during the job', async () => {
    const { handler, emulator } = await start();

    await handler(eventBuffer('timer/single'), fakeContext());
    const second = (await handler(eventBuffer('timer/single'), fakeContext())) as InvocationResult;

    expect(emulator.created).toHaveLength(1);
    expect(second.results[0]).toMatchObject({
      status: 'deduplicated',
      BackupJobId: emulator.created[0]?.BackupJobId,
      detail: expect.stringMatching(/already/),
    });
  });

  it('finds a finished backup and makes no CreateBackup call for the repeat', async () => {
    const { handler, emulator } = await start({ jobDurationMs: 20 });

    await handler(eventBuffer('timer/single'), fakeContext());
    await jobsFinish();
    const second = (await handler(eventBuffer('timer/single'), fakeContext())) as InvocationResult;

    expect(emulator.created).toHaveLength(1);
    expect(callsOf(emulator, 'CreateBackup')).toHaveLength(1);
    expect(second.results[0]).toMatchObject({
      status: 'deduplicated',
      BackupJobId: emulator.created[0]?.BackupJobId,
      BackupId: emulator.created[0]?.BackupId,
    });
  });

  it('creates one backup when a webhook is sent twice', async () => {
    const { handler, emulator } = await start({ jobDurationMs: 20 });
    const event = eventObject('http/post-json');
    event.headers = signWebhook(WEBHOOK_SECRET, String(event.body));

    const first = (await handler(eventBuffer(event), fakeContext())) as HttpAnswer;
    await jobsFinish();
    const second = (await handler(eventBuffer(event), fakeContext())) as HttpAnswer;

    expect([first.statusCode, second.statusCode]).toEqual([200, 200]);
    expect(JSON.parse(second.body).results[0].status).toBe('deduplicated');
    expect(emulator.created).toHaveLength(1);
  });

  it('lets FC retry a failed async invocation without a second backup', async () => {
    const { handler, emulator } = await start({ env: { MAX_ATTEMPTS: '2', MAX_CONCURRENCY: '1' } });
    // Targets run one by one: the first meets a gateway failing past both its attempts.
    emulator.setFaults([{ kind: 'serverError', count: 2, status: 503, action: 'CreateBackup' }]);
    const event = eventBuffer({
      triggerTime: '2026-12-03T02:00:00Z',
      triggerName: 'nightly',
      payload: JSON.stringify({
        targets: [{ DBInstanceId: INSTANCES.cloud }, { DBInstanceId: INSTANCES.sharded }],
        BackupMethod: 'Snapshot',
      }),
    });

    const first = handler(event, fakeContext());
    await expect(first).rejects.toThrow(RetryableFailure);
    const createdBeforeRetry = emulator.created.length;
    const retried = (await handler(event, fakeContext())) as InvocationResult;

    expect(createdBeforeRetry).toBe(1);
    expect(emulator.created.map((backup) => backup.DBInstanceId).sort()).toEqual([
      INSTANCES.cloud,
      INSTANCES.sharded,
    ]);
    expect(retried.results.map((target) => target.status).sort()).toEqual([
      'created',
      'deduplicated',
    ]);
  });

  it('does not take a backup by another method for a duplicate', async () => {
    const { handler, emulator } = await start({ jobDurationMs: 20 });

    await handler(
      eventBuffer({ DBInstanceId: INSTANCES.local, BackupMethod: 'Physical' }),
      fakeContext(),
    );
    await jobsFinish();
    await handler(
      eventBuffer({ DBInstanceId: INSTANCES.local, BackupMethod: 'Logical' }),
      fakeContext(),
    );

    expect(emulator.created.map((backup) => backup.BackupMethod)).toEqual(['Physical', 'Logical']);
  });

  it('ignores a backup older than the window', async () => {
    let offsetMs = -11 * 60_000;
    const { handler, emulator } = await start({
      jobDurationMs: 20,
      now: () => Date.now() + offsetMs,
    });

    await handler(eventBuffer('timer/single'), fakeContext());
    offsetMs = 0;
    const second = (await handler(eventBuffer('timer/single'), fakeContext())) as InvocationResult;

    expect(second.results[0]?.status).toBe('created');
    expect(emulator.created).toHaveLength(2);
  });

  it('makes no look-up and takes a new backup when DEDUPE_WINDOW_MINUTES is 0', async () => {
    const { handler, emulator } = await start({
      jobDurationMs: 20,
      env: { DEDUPE_WINDOW_MINUTES: '0' },
    });

    await handler(eventBuffer('timer/single'), fakeContext());
    await jobsFinish();
    await handler(eventBuffer('timer/single'), fakeContext());

    expect(emulator.created).toHaveLength(2);
    expect(callsOf(emulator, 'DescribeBackups')).toHaveLength(0);
  });
});
