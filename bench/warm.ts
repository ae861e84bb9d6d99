/**
 * Warm overhead: in one process, with both bundles loaded, pairs of invocations against the same
 * emulator: the function with DEDUPE_WINDOW_MINUTES=0 (one API call, like the baseline) and the
 * baseline handler (parse the event, build a client, one callApi CreateBackup). Each pair's
 * difference is one sample; the order within a pair alternates so drift cancels out.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { startEmulator } from '../emulator/index';
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
import { median, percentile } from './stats';

const WARM_UP_PAIRS = 50;

export interface WarmResult {
  pairs: number;
  differenceMedianMs: number;
  differenceP99Ms: number;
  functionMedianMs: number;
  baselineMedianMs: number;
}

export async function measureWarmOverhead(pairs: number): Promise<WarmResult> {
  const total = pairs + WARM_UP_PAIRS;
  const ids = instanceIds('warm', total * 2);
  // One job per instance at a time: every invocation backs up an instance of its own.
  const emulator = await startEmulator({ instances: cloudInstances(ids) });
  // Log lines cost what they cost in FC (serialise, scrub, write), but go to /dev/null.
  const devNull = openSync('/dev/null', 'w');

  try {
    const env = functionEnv(emulator.url, { DEDUPE_WINDOW_MINUTES: '0' });
    // The baseline reads its endpoint from the environment, as a deployed function would.
    process.env.DDS_ENDPOINT = env.DDS_ENDPOINT;
    const fn = (require(BUNDLES.function) as FunctionModule).createHandler({
      env,
      writeLine: (line) => writeSync(devNull, line),
    });
    const baseline = (require(BUNDLES.baseline) as { handler: Handler }).handler;

    const differences: number[] = [];
    const fnTimes: number[] = [];
    const baselineTimes: number[] = [];
    for (let pair = 0; pair < total; pair++) {
      const fnId = ids[pair * 2] ?? '';
      const baselineId = ids[pair * 2 + 1] ?? '';
      const fnFirst = pair % 2 === 0;

      const first = await timed(fnFirst ? fn : baseline, fnFirst ? fnId : baselineId);
      const second = await timed(fnFirst ? baseline : fn, fnFirst ? baselineId : fnId);
      if (pair < WARM_UP_PAIRS) continue;

      const [fnMs, baselineMs] = fnFirst ? [first, second] : [second, first];
      differences.push(fnMs - baselineMs);
      fnTimes.push(fnMs);
      baselineTimes.push(baselineMs);
    }

    if (new Set(emulator.created.map((backup) => backup.DBInstanceId)).size !== ids.length) {
      throw new Error('warm overhead: not every invocation created its backup');
    }
    return {
      pairs,
      differenceMedianMs: median(differences),
      differenceP99Ms: percentile(differences, 99),
      functionMedianMs: median(fnTimes),
      baselineMedianMs: median(baselineTimes),
    };
  } finally {
    closeSync(devNull);
    await emulator.close();
  }
}

async function timed(handler: Handler, id: string): Promise<number> {
  const event = Buffer.from(timerEvent({ DBInstanceId: id, BackupMethod: 'Snapshot' }));
  const context = fcContext(`warm-${id}`);

  const started = performance.now();
  await handler(event, context);
  return performance.now() - started;
}
