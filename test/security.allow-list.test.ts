// ALLOWED_INSTANCE_IDS holds whatever fired the function: a target outside it is refused with
// no API call, 403 over HTTP and failed otherwise.

import { describe, expect, it } from 'vitest';
import type { HttpAnswer } from '../functions/create-backup/http';
import type { InvocationResult } from '../functions/create-backup/index';
import { signWebhook } from '../shared/webhook-auth';
import {
  eventBuffer,
  eventObject,
  fakeContext,
  INSTANCES,
  useHarness,
  WEBHOOK_SECRET,
} from './helpers/fc';

const harness = useHarness({
  env: { ALLOWED_INSTANCE_IDS: ` ${INSTANCES.cloud} , ${INSTANCES.local}` },
});

const OUTSIDER = INSTANCES.sharded;
const request = { DBInstanceId: OUTSIDER, BackupMethod: 'Snapshot' };

const events: Record<string, () => object> = {
  timer: () => ({
    triggerTime: '2026-12-03T02:00:00Z',
    triggerName: 'nightly',
    payload: JSON.stringify(request),
  }),
  eventbridge: () => ({ ...eventObject('eventbridge/custom'), data: request }),
  'eventbridge subject ARN': () => ({
    ...eventObject('eventbridge/instance-arn'),
    subject: `acs:dds:cn-hangzhou:1234567890123456:dbinstance/${OUTSIDER}`,
  }),
  'mns-queue': () => {
    const [message] = eventObject('mns-queue/batch') as unknown as Array<Record<string, unknown>>;
    return [{ ...message, data: { messageBody: JSON.stringify(request) } }];
  },
  'mns-topic': () => ({ ...eventObject('mns-topic/json'), Message: JSON.stringify(request) }),
  direct: () => request,
};

describe('allow-list', () => {
  it.each(Object.keys(events))('refuses an instance outside it when fired by %s', async (name) => {
    const make = events[name];
    if (make === undefined) throw new Error(`no event named ${name}`);

    const result = (await harness.handler(eventBuffer(make()), fakeContext())) as InvocationResult;

    expect(result.summary).toBe('FAILED');
    expect(result.results).toEqual([
      expect.objectContaining({
        DBInstanceId: OUTSIDER,
        status: 'failed',
        error: {
          code: 'NotAllowed',
          message: `${OUTSIDER} is not in ALLOWED_INSTANCE_IDS`,
          retryable: false,
        },
      }),
    ]);
    expect(harness.emulator.calls).toHaveLength(0);
  });

  it('answers 403 over HTTP with no API call', async () => {
    const event = eventObject('http/post-json');
    event.body = JSON.stringify(request);
    event.headers = signWebhook(WEBHOOK_SECRET, String(event.body));

    const answer = (await harness.handler(eventBuffer(event), fakeContext())) as HttpAnswer;

    expect(answer.statusCode).toBe(403);
    expect(harness.emulator.calls).toHaveLength(0);
  });

  it('backs up the allowed targets of a mixed request and refuses the rest', async () => {
    const mixed = {
      targets: [{ DBInstanceId: INSTANCES.cloud }, { DBInstanceId: OUTSIDER }],
      BackupMethod: 'Snapshot',
    };

    const result = (await harness.handler(eventBuffer(mixed), fakeContext())) as InvocationResult;

    expect(result.summary).toBe('PARTIAL');
    expect(harness.emulator.created.map((backup) => backup.DBInstanceId)).toEqual([
      INSTANCES.cloud,
    ]);
    expect(harness.emulator.calls.every((call) => call.DBInstanceId === INSTANCES.cloud)).toBe(
      true,
    );
  });

  it('refuses the outsider in a dry run too, with no look-up', async () => {
    const result = (await harness.handler(
      eventBuffer({ ...request, dryRun: true }),
      fakeContext(),
    )) as InvocationResult;

    expect(result.results[0]?.error?.code).toBe('NotAllowed');
    expect(harness.emulator.calls).toHaveLength(0);
  });
});
