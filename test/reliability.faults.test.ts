// The fault matrix: every fault mode of the emulator against timer, HTTP and event invocations.
// For each: every target ends in a final state, no instance is backed up twice, the invocation
// ends before its deadline, and the log has a line for every failed attempt.

import { describe, expect, it } from 'vitest';
import type { FaultSpec } from '../emulator/index';
import type { HttpAnswer } from '../functions/create-backup/http';
import { type InvocationResult, RetryableFailure } from '../functions/create-backup/index';
import { signWebhook } from '../shared/webhook-auth';
import { ddsClient } from './helpers/emulator';
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

const TIMEOUT_SECONDS = 10;

const harness = useHarness({ env: { API_TIMEOUT_MS: '400', MAX_ATTEMPTS: '4' } });

const REQUEST = {
  targets: [
    { DBInstanceId: INSTANCES.cloud, BackupMethod: 'Snapshot' },
    { DBInstanceId: INSTANCES.sharded, BackupMethod: 'Snapshot' },
    { DBInstanceId: INSTANCES.local, BackupMethod: 'Physical' },
  ],
};
const TARGET_IDS = REQUEST.targets.map((target) => target.DBInstanceId).sort();

type TriggerName = 'timer' | 'http' | 'eventbridge';

function eventFor(trigger: TriggerName, request: object = REQUEST): object {
  const body = JSON.stringify(request);
  if (trigger === 'timer') {
    return { triggerTime: '2026-12-03T02:00:00Z', triggerName: 'nightly', payload: body };
  }
  if (trigger === 'eventbridge') return { ...eventObject('eventbridge/custom'), data: request };

  const event = eventObject('http/post-json');
  event.body = body;
  event.headers = signWebhook(WEBHOOK_SECRET, body);
  return event;
}

/** Runs one invocation; an async trigger's RetryableFailure is kept, not thrown. */
async function invoke(trigger: TriggerName, request?: object) {
  const started = Date.now();
  const context = fakeContext({ function: { name: 'dds-backup', timeout: TIMEOUT_SECONDS } });
  let answer: InvocationResult | HttpAnswer | RetryableFailure;
  try {
    answer = await harness.handler(eventBuffer(eventFor(trigger, request)), context);
  } catch (error) {
    if (!(error instanceof RetryableFailure)) throw error;
    answer = error;
  }
  const elapsedMs = Date.now() - started;

  const summary = harness.logs.find((line) => line.msg === 'run summary');
  const targets = harness.logs.filter((line) => /^target /.test(String(line.msg)));
  return { answer, elapsedMs, summary, targets };
}

function resultOf(answer: InvocationResult | HttpAnswer | RetryableFailure): InvocationResult {
  if (answer instanceof Error) throw answer;
  return 'statusCode' in answer ? JSON.parse(answer.body) : answer;
}

function expectNoDoubleBackup(): void {
  const ids = harness.emulator.created.map((backup) => backup.DBInstanceId);
  expect(new Set(ids).size).toBe(ids.length);
}

/** Each answer the emulator gave that was not a success must show in the log as a failed attempt. */
function expectEveryFailedAttemptLogged(): void {
  const failedCalls = harness.emulator.calls.filter((call) => call.status !== 200);
  const failedAttempts = harness.logs.filter((line) => line.msg === 'api call failed');
  expect(failedAttempts).toHaveLength(failedCalls.length);
  for (const line of failedAttempts) {
    expect(line).toMatchObject({
      level: 'warn',
      action: expect.any(String),
      attempt: expect.any(Number),
      errorCode: expect.any(String),
      DBInstanceId: expect.any(String),
    });
  }
}

const TRANSIENT_FAULTS: Array<[string, FaultSpec[]]> = [
  ['a throttling burst', [{ kind: 'throttle', count: 3, code: 'Throttling.User' }]],
  ['a rate limit of 4 calls a second', [{ kind: 'rateLimit', perSecond: 4 }]],
  ['503 ServiceUnavailable', [{ kind: 'serverError', count: 3, status: 503 }]],
  ['500 InternalError', [{ kind: 'serverError', count: 3, status: 500 }]],
  ['an HTML 502 page', [{ kind: 'html502', count: 3 }]],
  ['connection resets', [{ kind: 'reset', count: 3 }]],
  [
    'a reset after CreateBackup took effect',
    [{ kind: 'reset', count: 1, action: 'CreateBackup', after: true }],
  ],
  ['a response that hangs', [{ kind: 'hang', count: 2 }]],
  [
    'a hang after CreateBackup took effect',
    [{ kind: 'hang', count: 1, action: 'CreateBackup', after: true }],
  ],
];

describe.each(['timer', 'http', 'eventbridge'] as const)('fault matrix over %s', (trigger) => {
  it.each(TRANSIENT_FAULTS)('backs up every target once through %s', async (_, faults) => {
    harness.emulator.setFaults(faults);

    const { answer, elapsedMs, summary, targets } = await invoke(trigger);

    const result = resultOf(answer);
    expect(result.results.map((target) => target.DBInstanceId).sort()).toEqual(TARGET_IDS);
    for (const target of result.results)
      expect(['created', 'deduplicated']).toContain(target.status);
    expect(harness.emulator.created.map((backup) => backup.DBInstanceId).sort()).toEqual(
      TARGET_IDS,
    );
    expectNoDoubleBackup();
    expect(elapsedMs).toBeLessThan(TIMEOUT_SECONDS * 1000);
    expectEveryFailedAttemptLogged();
    expect(targets).toHaveLength(3);
    expect(summary).toMatchObject({ summary: 'OK' });
    if (trigger === 'http') expect((answer as HttpAnswer).statusCode).toBe(200);
  });

  it('reports a job that is already running as deduplicated, with its id', async () => {
    const running = await ddsClient(harness.emulator, { account: ROLE }).call('CreateBackup', {
      DBInstanceId: INSTANCES.cloud,
      BackupMethod: 'Snapshot',
    });

    const { answer } = await invoke(trigger);

    const cloud = resultOf(answer).results.find(
      (target) => target.DBInstanceId === INSTANCES.cloud,
    );
    expect(cloud).toMatchObject({ status: 'deduplicated', BackupJobId: running.BackupJobId });
    expectNoDoubleBackup();
    expectEveryFailedAttemptLogged();
  });

  it('gives every target a final failed state when faults outlast the attempts', async () => {
    harness.emulator.setFaults([{ kind: 'serverError', count: 100, status: 503 }]);

    const { answer, elapsedMs, summary } = await invoke(trigger);

    expect(elapsedMs).toBeLessThan(TIMEOUT_SECONDS * 1000);
    expect(harness.emulator.created).toHaveLength(0);
    expect(summary).toMatchObject({ summary: 'FAILED', failed: 3 });
    expectEveryFailedAttemptLogged();
    if (trigger === 'http') {
      expect((answer as HttpAnswer).statusCode).toBe(502);
      const body = JSON.parse((answer as HttpAnswer).body) as InvocationResult;
      expect(body.results.every((target) => target.attempts === 4)).toBe(true);
    } else {
      // Thrown so FC's async retry and failure destination take over.
      expect(answer).toBeInstanceOf(RetryableFailure);
    }
  });
});

describe('deadlines', () => {
  it('cuts hung calls off, retries them, and answers 504 before the function timeout', async () => {
    harness.emulator.setFaults([{ kind: 'hang', count: 1000 }]);
    const context = fakeContext({ function: { name: 'dds-backup', timeout: 3 } });
    const started = Date.now();

    const answer = (await harness.handler(eventBuffer(eventFor('http')), context)) as HttpAnswer;

    const elapsedMs = Date.now() - started;
    expect(elapsedMs).toBeLessThan(3000);
    expect([502, 504]).toContain(answer.statusCode);
    const body = JSON.parse(answer.body) as InvocationResult;
    expect(body.results).toHaveLength(3);
    expect(body.results.every((target) => target.status === 'failed')).toBe(true);
    const attempts = harness.logs.filter((line) => line.msg === 'api call failed');
    expect(attempts.length).toBeGreaterThan(3);
  });

  it('reports targets that never started as DeadlineExceeded', async () => {
    const slow = await startHarness({ env: { MAX_CONCURRENCY: '1', API_TIMEOUT_MS: '300' } });
    slow.emulator.setFaults([{ kind: 'hang', count: 1000 }]);
    const context = fakeContext({ function: { name: 'dds-backup', timeout: 2 } });
    const event = eventFor('http');

    const answer = (await slow.handler(eventBuffer(event), context)) as HttpAnswer;
    await slow.close();

    expect(answer.statusCode).toBe(504);
    const body = JSON.parse(answer.body) as InvocationResult;
    expect(body.results.map((target) => target.error?.code)).toEqual([
      'DeadlineExceeded',
      'DeadlineExceeded',
      'DeadlineExceeded',
    ]);
  });
});
