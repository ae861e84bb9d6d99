// The local DDS OpenAPI emulator: a real HTTP server on 127.0.0.1 that verifies signatures like
// the vendor gateway and serves the calls dds-backup makes. See emulator/README.md.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultBook } from './faults';
import { parseSeeds } from './schema';
import seedFile from './seed/instances.json';
import { handleRequest, type ServerContext } from './server';
import { NonceBook } from './signature';
import { DdsState } from './state';
import type {
  CreatedBackup,
  Emulator,
  EmulatorAccount,
  EmulatorCall,
  EmulatorOptions,
  FaultSpec,
  InstanceSeed,
} from './types';

export type * from './types';

/** An STS role key (as Function Compute hands a function) and a plain RAM user key. */
export const DEFAULT_ACCOUNTS: EmulatorAccount[] = [
  {
    accessKeyId: 'STS.emulator-role',
    accessKeySecret: 'emulator-secret',
    securityToken: 'emulator-token',
  },
  { accessKeyId: 'LTAIemulator', accessKeySecret: 'emulator-plain-secret' },
];

export const DEFAULT_JOB_DURATION_MS = 3000;

/** The instances in emulator/seed/instances.json, checked against the seed schema. */
export const defaultInstances = (): InstanceSeed[] => parseSeeds(seedFile);

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const now = options.now ?? Date.now;
  const jobDurationMs = options.jobDurationMs ?? DEFAULT_JOB_DURATION_MS;
  const initialSeeds = options.instances ?? defaultInstances();
  const initialFaults = options.faults ?? [];

  const calls: EmulatorCall[] = [];
  const created: CreatedBackup[] = [];
  const faults = new FaultBook(now);
  const nonces = new NonceBook();
  const newState = (seeds: readonly InstanceSeed[]) =>
    new DdsState(seeds, {
      jobDurationMs,
      now,
      onCreated: ({ DBInstanceId, BackupJobId, BackupId, BackupMethod, createdAt }) =>
        created.push({ DBInstanceId, BackupJobId, BackupId, BackupMethod, createdAt }),
    });
  let state = newState(initialSeeds);

  // Arrays are emptied in place: callers may hold emulator.calls and emulator.created.
  const reset = (instances?: InstanceSeed[]) => {
    state = newState(instances ?? initialSeeds);
    calls.length = 0;
    created.length = 0;
    nonces.clear();
    faults.set(initialFaults);
  };

  const context: ServerContext = {
    state: () => state,
    faults,
    verify: { accounts: accountMap(options.accounts ?? DEFAULT_ACCOUNTS), nonces, now },
    calls,
    created,
    now,
    reset,
    setFaults: (list) => faults.set(list),
  };
  faults.set(initialFaults);

  const server = createServer((req, res) => handleRequest(context, req, res));
  const port = await listen(server, options.port ?? 0);

  return {
    url: `http://127.0.0.1:${port}`,
    endpoint: `127.0.0.1:${port}`,
    port,
    calls,
    created,
    setFaults: (list: FaultSpec[]) => faults.set(list),
    clearFaults: () => faults.clear(),
    reset,
    close: () => close(server),
  };
}

function accountMap(accounts: readonly EmulatorAccount[]): Map<string, EmulatorAccount> {
  return new Map(accounts.map((account) => [account.accessKeyId, account]));
}

function listen(server: ReturnType<typeof createServer>, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function close(server: ReturnType<typeof createServer>): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    // Idle keep-alive sockets and hung requests would otherwise hold close() open.
    server.closeAllConnections();
  });
}
