/**
 * Runs in a fresh Node process, bundled to dist/bench/child.cjs so no TypeScript loader is in the way:
 * loads one bundle, invokes its handler once, and reports timings and memory to the parent over
 * the IPC channel. The parent owns the emulator, so nothing here but the function uses memory.
 */
import { readFileSync } from 'node:fs';

export interface ChildJob {
  bundle: string;
  /** The event as FC delivers it: JSON text, handed over as a Buffer. */
  event: string;
  context: Record<string, unknown>;
  /** Sample RSS while the handler runs (the batch run). */
  sampleMemory: boolean;
}

export interface ChildReport {
  /** require() of the bundle. */
  loadMs: number;
  /** The one invocation, from the call to its settled promise. */
  invokeMs: number;
  /** Opening process.stdout, done before the clock starts (see openStdout). */
  stdoutInitMs: number;
  /** Process start to the settled invocation: Node's own boot included. */
  sinceStartMs: number;
  ok: boolean;
  statuses: Record<string, number>;
  error?: string;
  peakRssBytes: number;
  rssSamples: number;
}

type Handler = (event: Buffer, context: Record<string, unknown>) => Promise<unknown>;

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '{}') as ChildJob;
  const event = Buffer.from(job.event);
  const memory = job.sampleMemory ? sampleRss() : undefined;
  const stdoutInitMs = openStdout();

  const started = performance.now();
  const { handler } = require(job.bundle) as { handler: Handler };
  const loaded = performance.now();
  const outcome = await handler(event, job.context).then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, value: undefined, error: String(error) }),
  );
  const settled = performance.now();
  memory?.stop();

  const report: ChildReport = {
    loadMs: loaded - started,
    invokeMs: settled - loaded,
    stdoutInitMs,
    sinceStartMs: settled,
    ok: outcome.ok,
    statuses: countStatuses(outcome.value),
    peakRssBytes: Math.max(memory?.peak() ?? 0, highWaterMark()),
    rssSamples: memory?.count() ?? 0,
    ...('error' in outcome ? { error: outcome.error } : {}),
  };
  // Exit at once: the client's keep-alive sockets would otherwise hold the process open.
  process.send?.(report, () => process.exit(0));
}

/**
 * Node opens process.stdout on first use, which costs a few milliseconds. In Function Compute
 * the runtime's own process has opened it before it loads the function, so it is opened here
 * before the clock starts too; otherwise the function, which logs, would pay for it and the
 * baseline, which does not, would not.
 */
function openStdout(): number {
  const started = performance.now();
  process.stdout.writableLength;
  return performance.now() - started;
}

function sampleRss() {
  let peak = 0;
  let count = 0;
  const take = () => {
    peak = Math.max(peak, process.memoryUsage.rss());
    count++;
  };
  const timer = setInterval(take, 10);
  return {
    stop: () => {
      take();
      clearInterval(timer);
    },
    peak: () => peak,
    count: () => count,
  };
}

/** VmHWM, the kernel's own peak resident size of this process, in bytes; 0 where there is none. */
function highWaterMark(): number {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kb = /^VmHWM:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kb === undefined ? 0 : Number(kb) * 1024;
  } catch {
    return 0;
  }
}

function countStatuses(value: unknown): Record<string, number> {
  const results = (value as { results?: { status?: string }[] } | undefined)?.results ?? [];
  const counts: Record<string, number> = {};
  for (const result of results) {
    const status = result.status ?? 'unknown';
    counts[status] = (counts[status] ?? 0) + 1;
  }
  return counts;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench child failed: ${String(error)}\n`);
  process.exit(1);
});
