// Property-based fuzzing of the handler's input: whatever arrives, invalid input never throws
// (FC would retry a throw), never reaches the API, and always gets an error that says why.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HttpAnswer } from '../functions/create-backup/http';
import type { InvocationResult } from '../functions/create-backup/index';
import { signWebhook } from '../shared/webhook-auth';
import { eventObject, fakeContext, INSTANCES, useHarness, WEBHOOK_SECRET } from './helpers/fc';

const harness = useHarness({ env: { LOG_LEVEL: 'error' } });

const RUNS = { numRuns: 150 };

/** Anything that could name a real instance makes an input possibly valid; such inputs are left out. */
const NAMES_AN_INSTANCE = /(dds|d)-[a-z0-9]{6,40}/;
const namesNoInstance = (value: unknown) => !NAMES_AN_INSTANCE.test(JSON.stringify(value) ?? '');

const KNOWN_CODES = new Set(['InvalidRequest', 'Unauthenticated', 'PayloadTooLarge']);

/** The errors an answer carries, whatever its shape. */
function errorsOf(answer: unknown): Array<{ code: string; message: string }> {
  const result = (
    typeof answer === 'object' && answer !== null && 'statusCode' in answer
      ? JSON.parse((answer as HttpAnswer).body)
      : answer
  ) as InvocationResult;
  const errors = result.results.flatMap((target) => (target.error ? [target.error] : []));
  return result.error ? [result.error, ...errors] : errors;
}

async function expectRefused(event: unknown): Promise<Array<{ code: string; message: string }>> {
  harness.emulator.reset();
  const answer = await harness.handler(event, fakeContext());

  const errors = errorsOf(answer);
  expect(errors.length).toBeGreaterThan(0);
  for (const error of errors) {
    expect(KNOWN_CODES).toContain(error.code);
    expect(error.message.length).toBeGreaterThan(5);
  }
  expect(harness.emulator.calls).toHaveLength(0);
  return errors;
}

describe('fuzzed input', () => {
  it('refuses arbitrary bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), async (bytes) => {
        await expectRefused(Buffer.from(bytes));
      }),
      RUNS,
    );
  });

  it('refuses arbitrary JSON values as direct events', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue().filter(namesNoInstance), async (value) => {
        await expectRefused(Buffer.from(JSON.stringify(value)));
      }),
      RUNS,
    );
  });

  it('refuses arbitrary timer payloads and MNS topic messages', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 300 }).filter(namesNoInstance), async (text) => {
        const timer = { triggerTime: '2026-12-03T02:00:00Z', triggerName: 'fuzz', payload: text };
        const topic = { ...eventObject('mns-topic/json'), Message: text };
        await expectRefused(Buffer.from(JSON.stringify(timer)));
        await expectRefused(Buffer.from(JSON.stringify(topic)));
      }),
      RUNS,
    );
  });

  it('refuses arbitrary CloudEvent data', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue().filter(namesNoInstance), async (data) => {
        const event = { ...eventObject('eventbridge/custom'), data };
        await expectRefused(Buffer.from(JSON.stringify(event)));
      }),
      RUNS,
    );
  });

  it('refuses arbitrary signed webhook bodies', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 300 }).filter(namesNoInstance), async (body) => {
        const event = eventObject('http/post-json');
        event.body = body;
        event.headers = signWebhook(WEBHOOK_SECRET, body);
        await expectRefused(Buffer.from(JSON.stringify(event)));
      }),
      RUNS,
    );
  });
});

/** One field of an otherwise valid request, set to something it must not be. */
const badField = fc.oneof(
  fc.record({
    field: fc.constant('DBInstanceId'),
    value: fc
      .oneof(fc.string(), fc.integer(), fc.constant(null))
      .filter((value) => typeof value !== 'string' || !/^(dds|d)-[a-z0-9]{6,40}$/.test(value)),
  }),
  fc.record({
    field: fc.constant('BackupMethod'),
    value: fc
      .oneof(fc.string(), fc.integer(), fc.boolean())
      .filter((value) => !['Logical', 'Physical', 'Snapshot'].includes(value as string)),
  }),
  fc.record({
    field: fc.constant('BackupRetentionPeriod'),
    value: fc
      .oneof(fc.double(), fc.integer(), fc.string())
      .filter(
        (value) =>
          !(
            typeof value === 'number' &&
            (value === -1 || (Number.isInteger(value) && value >= 7 && value <= 730))
          ),
      ),
  }),
  fc.record({
    field: fc
      .string({ minLength: 1, maxLength: 20 })
      .filter(
        (name) =>
          ![
            'DBInstanceId',
            'instanceId',
            'BackupMethod',
            'method',
            'BackupRetentionPeriod',
            'retentionPeriod',
            'RegionId',
            'regionId',
            'targets',
            'tags',
            'dryRun',
            '__proto__',
            'constructor',
            'prototype',
          ].includes(name),
      ),
    value: fc.jsonValue(),
  }),
);

describe('fuzzed fields', () => {
  it('names the bad field of an otherwise valid request', async () => {
    await fc.assert(
      fc.asyncProperty(badField, fc.boolean(), async ({ field, value }, inList) => {
        const target = { DBInstanceId: INSTANCES.cloud, BackupMethod: 'Snapshot', [field]: value };
        const request = inList
          ? { targets: [{ DBInstanceId: INSTANCES.sharded }, target] }
          : target;

        const [error] = await expectRefused(Buffer.from(JSON.stringify(request)));

        const at = inList ? 'targets[1].' : '';
        expect(error?.message.startsWith(`${at}${field}:`)).toBe(true);
      }),
      RUNS,
    );
  });
});
