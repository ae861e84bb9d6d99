// What the function's tests share: the instances they back up, one fake FC context, the
// trigger fixtures under test/events/, and a harness that runs the real handler against a real
// emulator. Nothing of ours is mocked; the fake is the DDS API at the far end of a socket.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { type Emulator, type InstanceSeed, startEmulator } from '../../emulator/index';
import { createHandler, type FcContext } from '../../functions/create-backup/index';
import { ROLE, scanForSecrets, WEBHOOK_SECRET } from './leaks';

export { ROLE, WEBHOOK_SECRET } from './leaks';

export const INSTANCES = {
  cloud: 'dds-bp1cloudrs0001',
  local: 'dds-bp1localrs0001',
  standalone: 'dds-bp1single00001',
  sharded: 'dds-bp1sharded0001',
  restoring: 'dds-bp1restoring01',
  locked: 'dds-bp1locked00001',
  missing: 'dds-bp1nosuchthing',
} as const;

export const TEST_INSTANCES: InstanceSeed[] = [
  {
    DBInstanceId: INSTANCES.cloud,
    StorageType: 'cloud_essd1',
    ReplicationFactor: '3',
    Tags: [{ Key: 'backup', Value: 'daily' }],
  },
  {
    DBInstanceId: INSTANCES.local,
    StorageType: 'local_ssd',
    ReplicationFactor: '3',
    Tags: [{ Key: 'backup', Value: 'weekly' }],
  },
  { DBInstanceId: INSTANCES.standalone, StorageType: 'cloud_essd1', ReplicationFactor: '1' },
  {
    DBInstanceId: INSTANCES.sharded,
    DBInstanceType: 'sharding',
    StorageType: 'cloud_essd2',
    ReplicationFactor: '3',
    Tags: [
      { Key: 'backup', Value: 'daily' },
      { Key: 'env', Value: 'prod' },
    ],
  },
  {
    DBInstanceId: INSTANCES.restoring,
    DBInstanceStatus: 'Restoring',
    StorageType: 'cloud_essd1',
    ReplicationFactor: '3',
  },
  {
    DBInstanceId: INSTANCES.locked,
    LockMode: 'ManualLock',
    StorageType: 'cloud_essd1',
    ReplicationFactor: '3',
  },
];

/** The context FC hands the function: the role's STS keys and a 30 s timeout. */
export function fakeContext(overrides: Partial<FcContext> = {}): FcContext {
  return {
    requestId: 'c0ffee00-test-4000-8000-000000000001',
    region: 'cn-hangzhou',
    credentials: { ...ROLE },
    function: { name: 'dds-backup', timeout: 30 },
    ...overrides,
  };
}

const EVENTS_DIR = join(__dirname, '..', 'events');

/** A fixture as a fresh object, safe to change. */
export function eventObject(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(EVENTS_DIR, `${name}.json`), 'utf8'));
}

/** A fixture as FC delivers it: a Buffer. */
export function eventBuffer(name: string | object): Buffer {
  const value = typeof name === 'string' ? eventObject(name) : name;
  return Buffer.from(JSON.stringify(value));
}

type Handler = ReturnType<typeof createHandler>;

export interface Harness {
  emulator: Emulator;
  handler: Handler;
  /** Every JSON log line the handler wrote, parsed. */
  logs: Record<string, unknown>[];
  /** The same lines as written, for searching raw output. */
  rawLogs: string[];
  /**
   * Another handler on the same emulator, with only `env` beside DDS_ENDPOINT and DDS_REGION
   * (no webhook secret, no log level); its lines are scanned for leaks, then dropped.
   */
  handlerWith(env: Record<string, string>): Handler;
  close(): Promise<void>;
}

export interface HarnessOptions {
  env?: Record<string, string>;
  instances?: InstanceSeed[];
  jobDurationMs?: number;
  /** The emulator's clock, to place backups in the past. */
  now?: () => number;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const emulator = await startEmulator({
    accounts: [ROLE],
    instances: options.instances ?? TEST_INSTANCES,
    jobDurationMs: options.jobDurationMs ?? 60_000,
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  const rawLogs: string[] = [];
  const logs: Record<string, unknown>[] = [];
  const handler = guardAgainstLeaks(
    createHandler({
      env: {
        DDS_ENDPOINT: emulator.url,
        DDS_REGION: 'cn-hangzhou',
        WEBHOOK_SECRET,
        LOG_LEVEL: 'debug',
        ...options.env,
      },
      writeLine: (line) => {
        scanForSecrets(line, 'log line');
        rawLogs.push(line);
        logs.push(JSON.parse(line));
      },
    }),
  );
  const handlerWith = (env: Record<string, string>) =>
    guardAgainstLeaks(
      createHandler({
        env: { DDS_ENDPOINT: emulator.url, DDS_REGION: 'cn-hangzhou', ...env },
        writeLine: (line) => scanForSecrets(line, 'log line'),
      }),
    );
  return { emulator, handler, logs, rawLogs, handlerWith, close: () => emulator.close() };
}

/** The handler, with every answer and every thrown error scanned for the fake secrets. */
export function guardAgainstLeaks(handler: Handler): Handler {
  return async (event, context) => {
    try {
      const answer = await handler(event, context);
      scanForSecrets(JSON.stringify(answer), 'answer');
      return answer;
    } catch (error) {
      scanForSecrets(`${String(error)} ${(error as Error).stack}`, 'thrown error');
      throw error;
    }
  };
}

/** The emulator's calls of one action, for counting what the handler asked for. */
export function callsOf(emulator: Emulator, action: string) {
  return emulator.calls.filter((call) => call.action === action);
}

/**
 * One harness for a test file: started before its tests, closed after them, and cleared before
 * each (emulator state, faults and captured logs), so every test starts from the seed.
 */
export function useHarness(options: HarnessOptions = {}): Harness {
  // Filled in by beforeAll; tests only touch it after that.
  const harness = {} as Harness;

  beforeAll(async () => {
    Object.assign(harness, await startHarness(options));
  });
  beforeEach(() => {
    harness.emulator.reset();
    harness.logs.length = 0;
    harness.rawLogs.length = 0;
  });
  afterAll(() => harness.close());

  return harness;
}
