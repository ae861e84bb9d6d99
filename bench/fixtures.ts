/**
 * What every benchmark shares: instance ids, the timer event and FC context the function gets,
 * the environment it runs with, and a way to run one bundle in a fresh Node process.
 */
import { fork } from 'node:child_process';
import { DEFAULT_ACCOUNTS, type EmulatorAccount, type InstanceSeed } from '../emulator/index';
import { CHILD_HARNESS } from './build';
import type { ChildJob, ChildReport } from './child';

export const REGION = 'cn-hangzhou';

/** The emulator's STS key: the kind of credentials FC hands a function in its context. */
export const STS_ACCOUNT = DEFAULT_ACCOUNTS[0] as Required<EmulatorAccount>;

/** Instance ids the request schema accepts: dds- then lower-case letters and digits only. */
export function instanceIds(prefix: string, count: number): string[] {
  return Array.from(
    { length: count },
    (_, index) => `dds-${prefix}${String(index).padStart(5, '0')}`,
  );
}

export function cloudInstances(ids: readonly string[]): InstanceSeed[] {
  return ids.map((DBInstanceId) => ({
    DBInstanceId,
    RegionId: REGION,
    ReplicationFactor: '3',
    StorageType: 'cloud_essd1',
  }));
}

/** A timer trigger's event as JSON text; FC delivers it to the handler as a Buffer. */
export function timerEvent(payload: object): string {
  return JSON.stringify({
    triggerTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    triggerName: 'bench',
    payload: JSON.stringify(payload),
  });
}

export function fcContext(requestId: string, timeoutSeconds = 30) {
  return {
    requestId,
    region: REGION,
    credentials: { ...STS_ACCOUNT },
    function: { name: 'dds-backup-bench', timeout: timeoutSeconds },
  };
}

/** The function's environment against a local emulator; `extra` overrides, e.g. the dedupe window. */
export function functionEnv(emulatorUrl: string, extra: Record<string, string> = {}) {
  return { DDS_ENDPOINT: emulatorUrl, DDS_REGION: REGION, ...extra };
}

/**
 * Runs one job in a fresh Node process with only the given environment (no tsx loader, no
 * NODE_OPTIONS inherited), and resolves with the child's report and the parent's wall time.
 */
export function runChild(
  job: ChildJob,
  env: Record<string, string>,
): Promise<ChildReport & { processMs: number }> {
  const started = performance.now();
  const child = fork(CHILD_HARNESS, [JSON.stringify(job)], {
    env: { PATH: process.env.PATH ?? '', ...env },
    execArgv: [],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });

  return new Promise((resolve, reject) => {
    let report: ChildReport | undefined;
    child.once('message', (message) => {
      report = message as ChildReport;
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (report === undefined) reject(new Error(`bench child exited with ${code} and no report`));
      else resolve({ ...report, processMs: performance.now() - started });
    });
  });
}

export type Handler = (event: Buffer, context: object) => Promise<unknown>;

/** What the built function bundle exports, as the benchmark uses it. */
export interface FunctionModule {
  createHandler(options: {
    env: Record<string, string>;
    writeLine: (line: string) => void;
  }): Handler;
}
