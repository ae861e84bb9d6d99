// Webhook authentication: only a caller holding WEBHOOK_SECRET, signing this body now, gets in.
// Every refusal is a 401 with a JSON reason, and no refused request reaches the API.

import { describe, expect, it } from 'vitest';
import type { HttpAnswer } from '../functions/create-backup/http';
import type { InvocationResult } from '../functions/create-backup/index';
import { computeSignature, signWebhook } from '../shared/webhook-auth';
import {
  eventBuffer,
  eventObject,
  fakeContext,
  INSTANCES,
  useHarness,
  WEBHOOK_SECRET,
} from './helpers/fc';

const harness = useHarness();

const BODY = JSON.stringify({ DBInstanceId: INSTANCES.cloud, BackupMethod: 'Snapshot' });
const now = () => Math.floor(Date.now() / 1000);

function httpEvent(headers: Record<string, string>, body = BODY, base64 = false) {
  const event = eventObject('http/post-json');
  event.headers = { 'Content-Type': 'application/json', ...headers };
  event.body = base64 ? Buffer.from(body).toString('base64') : body;
  event.isBase64Encoded = base64;
  return eventBuffer(event);
}

async function send(event: Buffer, handler = harness.handler) {
  const answer = (await handler(event, fakeContext())) as HttpAnswer;
  return { status: answer.statusCode, body: JSON.parse(answer.body) as InvocationResult };
}

async function expectRefused(event: Buffer, reason: RegExp) {
  const { status, body } = await send(event);

  expect(status).toBe(401);
  expect(body.error).toEqual({ code: 'Unauthenticated', message: expect.stringMatching(reason) });
  expect(harness.emulator.calls).toHaveLength(0);
}

describe('webhook authentication', () => {
  it('accepts a request signed with the secret', async () => {
    const { status } = await send(httpEvent(signWebhook(WEBHOOK_SECRET, BODY)));

    expect(status).toBe(200);
    expect(harness.emulator.created).toHaveLength(1);
  });

  it.each([
    ['lower case', (name: string) => name.toLowerCase()],
    ['upper case', (name: string) => name.toUpperCase()],
    ['FC canonical case', (name: string) => name],
  ])('reads the headers in %s', async (_, rename) => {
    const signed = signWebhook(WEBHOOK_SECRET, BODY);
    const headers = Object.fromEntries(
      Object.entries(signed).map(([name, value]) => [rename(name), value]),
    );

    const { status } = await send(httpEvent(headers));

    expect(status).toBe(200);
  });

  it('verifies a base64 body against its decoded bytes', async () => {
    const { status } = await send(httpEvent(signWebhook(WEBHOOK_SECRET, BODY), BODY, true));

    expect(status).toBe(200);
  });

  it('refuses a request with no signature', async () => {
    await expectRefused(httpEvent({}), /headers are required/);
  });

  it('refuses a signature made with another secret', async () => {
    await expectRefused(
      httpEvent(signWebhook('another-secret-of-enough-length', BODY)),
      /does not match/,
    );
  });

  it('refuses a body altered after signing', async () => {
    const headers = signWebhook(WEBHOOK_SECRET, BODY);
    const altered = BODY.replace('Snapshot', 'Physical');

    await expectRefused(httpEvent(headers, altered), /does not match/);
  });

  it('refuses a timestamp altered after signing', async () => {
    const headers = signWebhook(WEBHOOK_SECRET, BODY, now());
    headers['X-Backup-Timestamp'] = String(now() - 1);

    await expectRefused(httpEvent(headers), /does not match/);
  });

  it.each([
    ['stale', -301],
    ['future', 301],
  ])('refuses a %s timestamp even when correctly signed', async (_, offset) => {
    await expectRefused(
      httpEvent(signWebhook(WEBHOOK_SECRET, BODY, now() + offset)),
      /more than 300 s from now/,
    );
  });

  it('refuses a timestamp that is not unix seconds', async () => {
    const timestamp = new Date().toISOString();
    const headers = {
      'X-Backup-Timestamp': timestamp,
      'X-Backup-Signature': computeSignature(WEBHOOK_SECRET, timestamp, BODY),
    };

    await expectRefused(httpEvent(headers), /unix seconds/);
  });

  it('refuses a signature in another format', async () => {
    const headers = signWebhook(WEBHOOK_SECRET, BODY);
    headers['X-Backup-Signature'] = headers['X-Backup-Signature']?.replace('sha256=', '') ?? '';

    await expectRefused(httpEvent(headers), /does not match/);
  });

  it('refuses every HTTP request when no WEBHOOK_SECRET is set', async () => {
    const handler = harness.handlerWith({});

    const { status, body } = await send(httpEvent(signWebhook(WEBHOOK_SECRET, BODY)), handler);

    expect(status).toBe(401);
    expect(body.error?.message).toMatch(/no WEBHOOK_SECRET/);
    expect(harness.emulator.calls).toHaveLength(0);
  });

  it('accepts the old secret alongside the new one during a rotation, and only then', async () => {
    const oldSecret = 'the-old-secret-being-rotated-out';
    const handlerWith = (secrets: string) => harness.handlerWith({ WEBHOOK_SECRET: secrets });
    const signedWithOld = httpEvent(signWebhook(oldSecret, BODY));

    const during = await send(signedWithOld, handlerWith(`${WEBHOOK_SECRET},${oldSecret}`));
    const withNew = await send(
      httpEvent(signWebhook(WEBHOOK_SECRET, BODY)),
      handlerWith(`${WEBHOOK_SECRET},${oldSecret}`),
    );
    const after = await send(signedWithOld, handlerWith(WEBHOOK_SECRET));

    expect([during.status, withNew.status, after.status]).toEqual([200, 200, 401]);
  });

  it('lets the trigger authenticate callers when HTTP_AUTH=trigger', async () => {
    const handler = harness.handlerWith({ HTTP_AUTH: 'trigger' });

    const { status } = await send(httpEvent({}), handler);

    expect(status).toBe(200);
  });
});

describe('request hygiene', () => {
  it('refuses a body over 256 KiB with 413 before checking or parsing it', async () => {
    const huge = `{"DBInstanceId":"${INSTANCES.cloud}","pad":"${'x'.repeat(256 * 1024)}"}`;

    const { status, body } = await send(httpEvent({}, huge));

    expect(status).toBe(413);
    expect(body.error?.code).toBe('PayloadTooLarge');
    expect(harness.emulator.calls).toHaveLength(0);
  });

  it('bounds a long unknown field name in the error it echoes', async () => {
    const name = 'x'.repeat(5000);
    const body = JSON.stringify({ DBInstanceId: INSTANCES.cloud, [name]: 1 });

    const { status, body: answer } = await send(httpEvent(signWebhook(WEBHOOK_SECRET, body), body));

    expect(status).toBe(400);
    expect(answer.error?.message.length).toBeLessThan(300);
  });

  it('escapes control characters a caller sends before they reach a log line', async () => {
    const body = JSON.stringify({ DBInstanceId: INSTANCES.cloud, 'evil\n{"level":"info"}': 1 });

    await send(httpEvent(signWebhook(WEBHOOK_SECRET, body), body));

    expect(harness.rawLogs.every((line) => line.indexOf('\n') === line.length - 1)).toBe(true);
  });
});
