/**
 * Cold start: fresh Node processes, alternating between the arms, each loading one bundle and
 * completing one timer invocation against a warm emulator in this process. The figure is the
 * child's own clock from require() to the settled invocation, so Node's boot (the same for
 * every arm) and the fork do not blur it; the whole process time is kept beside it.
 */
import { startEmulator } from '../emulator/index';
import { BUNDLES, type BundleName } from './build';
import {
  cloudInstances,
  fcContext,
  functionEnv,
  instanceIds,
  runChild,
  timerEvent,
} from './fixtures';
import { median, percentile } from './stats';

/** Each arm: which bundle, and the function's dedupe window (the baseline has none). */
const ARMS = {
  baseline: { bundle: 'baseline', env: {} },
  'function, DEDUPE_WINDOW_MINUTES=0': { bundle: 'function', env: { DEDUPE_WINDOW_MINUTES: '0' } },
  'function, dedupe on (default 10)': { bundle: 'function', env: {} },
} as const satisfies Record<string, { bundle: BundleName; env: Record<string, string> }>;
type ArmName = keyof typeof ARMS;

const WARM_UP_ROUNDS = 2;

export interface ArmFigures {
  /** require() plus one invocation, per the child's clock. */
  medianMs: number;
  p90Ms: number;
  loadMedianMs: number;
  invokeMedianMs: number;
  /** Fork to exit, per this process's clock. */
  processMedianMs: number;
  /** Opening process.stdout, paid by every arm before the clock starts. */
  stdoutInitMedianMs: number;
  runs: number;
}

export type ColdStartResult = Record<ArmName, ArmFigures>;

export async function measureColdStart(runs: number): Promise<ColdStartResult> {
  const names = Object.keys(ARMS) as ArmName[];
  const rounds = runs + WARM_UP_ROUNDS;
  const ids = instanceIds('cold', rounds * names.length);
  const emulator = await startEmulator({ instances: cloudInstances(ids) });
  const samples = new Map(names.map((name) => [name, [] as Sample[]]));

  try {
    let next = 0;
    for (let round = 0; round < rounds; round++) {
      // Rotate which arm goes first, so drift in the machine's load hits every arm alike.
      for (let turn = 0; turn < names.length; turn++) {
        const name = names[(round + turn) % names.length] as ArmName;
        const id = ids[next++] ?? '';
        const sample = await runOnce(name, id, emulator.url);
        if (round >= WARM_UP_ROUNDS) samples.get(name)?.push(sample);
      }
    }
    const created = new Set(emulator.created.map((backup) => backup.DBInstanceId));
    if (created.size !== ids.length) {
      throw new Error(`cold start: ${ids.length} invocations but ${created.size} backups created`);
    }
  } finally {
    await emulator.close();
  }

  return Object.fromEntries(
    names.map((name) => [name, figures(samples.get(name) ?? [])]),
  ) as ColdStartResult;
}

interface Sample {
  totalMs: number;
  loadMs: number;
  invokeMs: number;
  processMs: number;
  stdoutInitMs: number;
}

async function runOnce(name: ArmName, id: string, emulatorUrl: string): Promise<Sample> {
  const arm = ARMS[name];
  const report = await runChild(
    {
      bundle: BUNDLES[arm.bundle],
      event: timerEvent({ DBInstanceId: id, BackupMethod: 'Snapshot' }),
      context: fcContext(`cold-${id}`),
      sampleMemory: false,
    },
    functionEnv(emulatorUrl, arm.env),
  );
  if (!report.ok) throw new Error(`cold start (${name}) failed: ${report.error}`);
  return {
    totalMs: report.loadMs + report.invokeMs,
    loadMs: report.loadMs,
    invokeMs: report.invokeMs,
    processMs: report.processMs,
    stdoutInitMs: report.stdoutInitMs,
  };
}

function figures(samples: readonly Sample[]): ArmFigures {
  const totals = samples.map((sample) => sample.totalMs);
  return {
    medianMs: median(totals),
    p90Ms: percentile(totals, 90),
    loadMedianMs: median(samples.map((sample) => sample.loadMs)),
    invokeMedianMs: median(samples.map((sample) => sample.invokeMs)),
    processMedianMs: median(samples.map((sample) => sample.processMs)),
    stdoutInitMedianMs: median(samples.map((sample) => sample.stdoutInitMs)),
    runs: samples.length,
  };
}
