/**
 * A batch of 500 targets against an emulator that admits 50 calls a second, run in a child
 * process so its peak memory is the function's alone. The ceiling is the least time the
 * admitted calls could take at that rate; refused (throttled) calls are counted separately.
 */
import { startEmulator } from '../emulator/index';
import { BUNDLES } from './build';
import {
  cloudInstances,
  fcContext,
  functionEnv,
  instanceIds,
  runChild,
  timerEvent,
} from './fixtures';

export const RATE_LIMIT_PER_SECOND = 50;
/** High enough that the deadline never cuts the batch short. */
const FUNCTION_TIMEOUT_SECONDS = 120;

export interface BatchResult {
  targets: number;
  wallMs: number;
  /** Calls the emulator admitted (not throttled). */
  admittedCalls: number;
  throttledCalls: number;
  ceilingMs: number;
  /** ceiling ÷ wall time: 1 is a batch paced exactly at the limit. */
  ceilingRatio: number;
  distinctBackedUp: number;
  backedUpTwice: number;
  statuses: Record<string, number>;
  peakRssBytes: number;
  rssSamples: number;
  error?: string;
}

export async function measureBatch(targets: number): Promise<BatchResult> {
  const ids = instanceIds('batch', targets);
  const emulator = await startEmulator({
    instances: cloudInstances(ids),
    faults: [{ kind: 'rateLimit', perSecond: RATE_LIMIT_PER_SECOND }],
  });

  try {
    const report = await runChild(
      {
        bundle: BUNDLES.function,
        event: timerEvent({
          targets: ids.map((DBInstanceId) => ({ DBInstanceId, BackupMethod: 'Snapshot' })),
        }),
        context: fcContext('batch', FUNCTION_TIMEOUT_SECONDS),
        sampleMemory: true,
      },
      functionEnv(emulator.url),
    );

    const throttledCalls = emulator.calls.filter((call) => /Throttling/.test(call.code ?? ''));
    const admittedCalls = emulator.calls.length - throttledCalls.length;
    const ceilingMs = (admittedCalls / RATE_LIMIT_PER_SECOND) * 1000;
    const perInstance = new Map<string, number>();
    for (const backup of emulator.created) {
      perInstance.set(backup.DBInstanceId, (perInstance.get(backup.DBInstanceId) ?? 0) + 1);
    }

    return {
      targets,
      wallMs: report.invokeMs,
      admittedCalls,
      throttledCalls: throttledCalls.length,
      ceilingMs,
      ceilingRatio: ceilingMs / report.invokeMs,
      distinctBackedUp: perInstance.size,
      backedUpTwice: [...perInstance.values()].filter((count) => count > 1).length,
      statuses: report.statuses,
      peakRssBytes: report.peakRssBytes,
      rssSamples: report.rssSamples,
      ...(report.error === undefined ? {} : { error: report.error }),
    };
  } finally {
    await emulator.close();
  }
}
