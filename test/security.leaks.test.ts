// Secrets never reach stdout, stderr, results or HTTP bodies, even on the paths where the
// vendor's client throws errors that carry the whole signed request. Every other test file
// also runs under the same guard (test/setup/leak-guard.ts); this one aims at the risky paths
// and writes logs to the real stdout, as FC sees them.

import { describe, expect, it } from 'vitest';
import type { FaultSpec } from '../emulator/index';
import { createHandler, type FcContext } from '../functions/create-backup/index';
import { signWebhook } from '../shared/webhook-auth';
import {
  eventBuffer,
  eventObject,
  fakeContext,
  INSTANCES,
  ROLE,
  useHarness,
  WEBHOOK_SECRET,
} from './helpers/fc';
import { FAKE_SECRETS, type Leak, scanForSecrets } from './helpers/leaks';

const harness = useHarness();

interface Scenario {
  name: string;
  env?: Record<string, string>;
  context?: FcContext;
  faults?: FaultSpec[];
  event: () => object;
}

const request = { DBInstanceId: INSTANCES.cloud, BackupMethod: 'Snapshot' };
const signedHttp = (body: string, secret = WEBHOOK_SECRET) => {
  const event = eventObject('http/post-json');
  event.body = body;
  event.headers = signWebhook(secret, body);
  return event;
};

const SCENARIOS: Scenario[] = [
  { name: 'a created backup', event: () => request },
  {
    name: 'a wrong role secret (SignatureDoesNotMatch)',
    context: fakeContext({
      credentials: { ...ROLE, accessKeySecret: `${ROLE.accessKeySecret}-x` },
    }),
    event: () => request,
  },
  {
    name: 'a wrong STS token',
    context: fakeContext({ credentials: { ...ROLE, securityToken: `${ROLE.securityToken}-x` } }),
    event: () => request,
  },
  { name: 'an HTML 502', faults: [{ kind: 'html502', count: 10 }], event: () => request },
  { name: 'connection resets', faults: [{ kind: 'reset', count: 10 }], event: () => request },
  {
    name: 'a refused endpoint',
    env: { DDS_ENDPOINT: 'http://127.0.0.1:9', MAX_ATTEMPTS: '2' },
    event: () => request,
  },
  {
    name: 'keys from the environment and a bad variable',
    env: {
      ALIBABA_CLOUD_ACCESS_KEY_ID: ROLE.accessKeyId,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: ROLE.accessKeySecret,
      ALIBABA_CLOUD_SECURITY_TOKEN: ROLE.securityToken,
      MAX_ATTEMPTS: 'lots',
    },
    event: () => request,
  },
  { name: 'a signed webhook', event: () => signedHttp(JSON.stringify(request)) },
  { name: 'a webhook signed with the wrong secret', event: () => signedHttp('{}', 'x'.repeat(20)) },
  {
    name: 'a request that echoes a secret back',
    event: () => ({ DBInstanceId: ROLE.accessKeySecret }),
  },
  {
    name: 'a field named after the token',
    event: () => ({ ...request, [ROLE.securityToken]: WEBHOOK_SECRET }),
  },
];

/** Captures what the function writes to stdout and stderr while `run` runs. */
async function captureOutput(run: () => Promise<unknown>): Promise<string> {
  let captured = '';
  const streams = [process.stdout, process.stderr];
  const originals = streams.map((stream) => stream.write);
  streams.forEach((stream, index) => {
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      captured += String(chunk);
      return (originals[index] as (...args: unknown[]) => boolean).call(stream, chunk, ...rest);
    }) as typeof stream.write;
  });
  try {
    captured += JSON.stringify(
      await run().catch((error: Error) => `${error.message} ${error.stack}`),
    );
  } finally {
    streams.forEach((stream, index) => {
      stream.write = originals[index] as typeof stream.write;
    });
  }
  return captured;
}

describe('secret redaction', () => {
  it.each(SCENARIOS)('leaks no secret with $name', async (scenario) => {
    const handler = createHandler({
      env: {
        DDS_ENDPOINT: harness.emulator.url,
        DDS_REGION: 'cn-hangzhou',
        WEBHOOK_SECRET,
        LOG_LEVEL: 'debug',
        API_TIMEOUT_MS: '500',
        ...scenario.env,
      },
    });
    harness.emulator.setFaults(scenario.faults ?? []);

    const output = await captureOutput(() =>
      handler(eventBuffer(scenario.event()), scenario.context ?? fakeContext()),
    );

    const found: Leak[] = [];
    scanForSecrets(output, scenario.name, found);
    expect(output.length).toBeGreaterThan(50);
    expect(found).toEqual([]);
  });

  it('finds a planted secret, so the scan itself works', () => {
    const found: Leak[] = [];

    for (const secret of FAKE_SECRETS) scanForSecrets(`{"msg":"oops ${secret}"}`, 'planted', found);

    expect(found.map((leak) => leak.secret)).toEqual([...FAKE_SECRETS]);
  });
});
