/**
 * API calls per target, counted from the emulator's own log, for the paths a target can take.
 * Where a path needs something to exist first (a finished backup, a running job), the counted
 * invocation is the second one, on the same instance.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { type Emulator, type FaultSpec, startEmulator } from '../emulator/index';
import { BUNDLES } from './build';
import {
  cloudInstances,
  type FunctionModule,
  fcContext,
  functionEnv,
  type Handler,
  instanceIds,
  timerEvent,
} from './fixtures';

export interface PathCount {
  calls: number;
  actions: string[];
}

export const PATHS = [
  'common: method given, nothing to dedupe',
  'common, DEDUPE_WINDOW_MINUTES=0',
  'method omitted',
  'dedupe hit (a Manual backup in the window)',
  'job already running (BackupJobExists)',
  'throttled once',
] as const;
export type PathName = (typeof PATHS)[number];

/** A finished job must exist for the dedupe hit; a running one for BackupJobExists. */
const SHORT_JOB_MS = 20;
const LONG_JOB_MS = 60_000;

export async function countCalls(): Promise<Record<PathName, PathCount>> {
  const ids = instanceIds('calls', PATHS.length);
  const instances = cloudInstances(ids);
  const shortJobs = await startEmulator({ instances, jobDurationMs: SHORT_JOB_MS });
  const longJobs = await startEmulator({ instances, jobDurationMs: LONG_JOB_MS });
  const devNull = openSync('/dev/null', 'w');
  const writeLine = (line: string) => writeSync(devNull, line);
  const load = require(BUNDLES.function) as FunctionModule;
  const handlerFor = (emulator: Emulator, extra: Record<string, string> = {}) =>
    load.createHandler({ env: functionEnv(emulator.url, extra), writeLine });
  const withMethod = (id: string) => ({ DBInstanceId: id, BackupMethod: 'Snapshot' });
  const id = (index: number) => ids[index] ?? '';

  try {
    return {
      [PATHS[0]]: await counted(shortJobs, handlerFor(shortJobs), withMethod(id(0))),
      [PATHS[1]]: await counted(
        shortJobs,
        handlerFor(shortJobs, { DEDUPE_WINDOW_MINUTES: '0' }),
        withMethod(id(1)),
      ),
      [PATHS[2]]: await counted(shortJobs, handlerFor(shortJobs), { DBInstanceId: id(2) }),
      [PATHS[3]]: await countedSecond(shortJobs, handlerFor(shortJobs), withMethod(id(3))),
      [PATHS[4]]: await countedSecond(longJobs, handlerFor(longJobs), withMethod(id(4))),
      [PATHS[5]]: await counted(shortJobs, handlerFor(shortJobs), withMethod(id(5)), [
        { kind: 'throttle', count: 1 },
      ]),
    };
  } finally {
    closeSync(devNull);
    await Promise.all([shortJobs.close(), longJobs.close()]);
  }
}

async function counted(
  emulator: Emulator,
  handler: Handler,
  payload: object,
  faults: FaultSpec[] = [],
): Promise<PathCount> {
  emulator.setFaults(faults);
  const before = emulator.calls.length;
  await handler(Buffer.from(timerEvent(payload)), fcContext('calls'));
  emulator.clearFaults();

  const actions = emulator.calls.slice(before).map((call) => `${call.action}:${call.status}`);
  return { calls: actions.length, actions };
}

/** The first invocation creates a backup; the second, counted, meets it. */
async function countedSecond(
  emulator: Emulator,
  handler: Handler,
  payload: object,
): Promise<PathCount> {
  await handler(Buffer.from(timerEvent(payload)), fcContext('calls-first'));
  await new Promise((resolve) => setTimeout(resolve, SHORT_JOB_MS * 3));
  return counted(emulator, handler, payload);
}
