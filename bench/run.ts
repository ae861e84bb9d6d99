/**
 * `npm run bench`: every figure is a ratio or a difference against a baseline measured in the
 * same run, because the machine is shared and noisy. Prints a table and writes results.json.
 * Not part of `npm test`: it takes minutes and its figures vary from run to run.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { measureBatch, RATE_LIMIT_PER_SECOND } from './batch';
import { type BundleReport, buildAll } from './build';
import { countCalls, PATHS } from './calls';
import { measureColdStart } from './cold-start';
import { round } from './stats';
import { measureWarmOverhead } from './warm';

const COLD_RUNS = 60;
const WARM_PAIRS = 500;
const BATCH_TARGETS = 500;
const MEMORY_GB = 0.125;
const MB = 1024 * 1024;

interface Row {
  metric: string;
  target: string;
  measured: string;
  pass: boolean | undefined;
}

async function main(): Promise<void> {
  const started = performance.now();
  const bundle = await step('bundles', buildAll);
  const cold = await step('cold start', () => measureColdStart(COLD_RUNS));
  const warm = await step('warm overhead', () => measureWarmOverhead(WARM_PAIRS));
  const calls = await step('api calls', countCalls);
  const batch = await step('batch', () => measureBatch(BATCH_TARGETS));

  const baselineCold = cold.baseline;
  const fnCold = cold['function, DEDUPE_WINDOW_MINUTES=0'];
  const dedupeCold = cold['function, dedupe on (default 10)'];
  const coldDiff = fnCold.medianMs - baselineCold.medianMs;
  const bundleRatio = bundle.functionBytes / bundle.baselineBytes;
  const common = calls[PATHS[0]];

  const rows: Row[] = [
    {
      metric: '1. bundle size vs baseline',
      target: '<= 1.10x',
      measured: `${kb(bundle.functionBytes)} / ${kb(bundle.baselineBytes)} = ${round(bundleRatio, 3)}x`,
      pass: bundleRatio <= 1.1,
    },
    {
      metric: '2. cold start median, DEDUPE=0 (p90)',
      target: '<= baseline + 2 ms',
      measured:
        `${ms(fnCold.medianMs)} vs ${ms(baselineCold.medianMs)}: ${signed(coldDiff)} ` +
        `(p90 ${ms(fnCold.p90Ms)} vs ${ms(baselineCold.p90Ms)})`,
      pass: coldDiff <= 2,
    },
    {
      metric: '   of which require() / invoke',
      target: 'info',
      measured:
        `load ${signed(fnCold.loadMedianMs - baselineCold.loadMedianMs)}, ` +
        `invoke ${signed(fnCold.invokeMedianMs - baselineCold.invokeMedianMs)}; ` +
        `stdout opened before the clock: ${ms(baselineCold.stdoutInitMedianMs)}`,
      pass: undefined,
    },
    {
      metric: '   cold start, dedupe on (+1 call)',
      target: 'info',
      measured: `${ms(dedupeCold.medianMs)}: ${signed(dedupeCold.medianMs - baselineCold.medianMs)}`,
      pass: undefined,
    },
    {
      metric: '3. warm overhead per invocation, DEDUPE=0',
      target: '<= 1 ms median',
      measured: `median ${signed(warm.differenceMedianMs, 3)}, p99 ${signed(warm.differenceP99Ms)}`,
      pass: warm.differenceMedianMs <= 1,
    },
    {
      metric: '4. API calls, common path',
      target: '<= 2',
      measured: `${common.calls} (${common.actions.join(', ')})`,
      pass: common.calls <= 2,
    },
    ...PATHS.slice(1).map((path) => ({
      metric: `   API calls, ${path}`,
      target: 'info',
      measured: String(calls[path].calls),
      pass: undefined,
    })),
    {
      metric: `5. batch ${BATCH_TARGETS} @ ${RATE_LIMIT_PER_SECOND}/s: ceiling / wall`,
      target: '>= 0.9, each once',
      measured:
        `${round(batch.ceilingRatio, 3)} (${ms(batch.ceilingMs)} / ${ms(batch.wallMs)}); ` +
        `${batch.distinctBackedUp} distinct, ${batch.backedUpTwice} twice, ` +
        `${batch.throttledCalls} throttled`,
      pass:
        batch.ceilingRatio >= 0.9 &&
        batch.distinctBackedUp === BATCH_TARGETS &&
        batch.backedUpTwice === 0,
    },
    {
      metric: '6. batch peak RSS',
      target: '<= 96 MB',
      measured: `${round(batch.peakRssBytes / MB, 1)} MB`,
      pass: batch.peakRssBytes <= 96 * MB,
    },
    {
      metric: '7. GB-s per backup @128 MB: cold / warm',
      target: 'info',
      measured:
        `${gbSeconds(fnCold.medianMs)} / ${gbSeconds(warm.functionMedianMs)} ` +
        `(baseline ${gbSeconds(baselineCold.medianMs)} / ${gbSeconds(warm.baselineMedianMs)})`,
      pass: undefined,
    },
  ];

  printTable(rows);
  const totalSeconds = (performance.now() - started) / 1000;
  writeResults({ rows, bundle, cold, warm, calls, batch, totalSeconds });
  process.stdout.write(`\nbench took ${round(totalSeconds, 1)} s; wrote bench/results.json\n`);
}

async function step<T>(name: string, run: () => Promise<T>): Promise<T> {
  process.stdout.write(`running ${name}...\n`);
  return run();
}

function writeResults(results: { rows: Row[]; bundle: BundleReport } & Record<string, unknown>) {
  const document = {
    measuredAt: new Date().toISOString(),
    node: process.version,
    ...results,
  };
  const text = JSON.stringify(document, (_key, value) => roundedNumber(value), 2);
  writeFileSync(join(__dirname, 'results.json'), `${text}\n`);
}

function roundedNumber(value: unknown): unknown {
  return typeof value === 'number' && !Number.isInteger(value) ? round(value, 3) : value;
}

function printTable(rows: readonly Row[]): void {
  const cells = rows.map((row) => [row.metric, row.target, row.measured, verdict(row.pass)]);
  const header = ['metric', 'target', 'measured', 'result'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...cells.map((cell) => (cell[column] ?? '').length)),
  );
  const line = (cell: readonly string[]) =>
    `| ${cell.map((text, column) => text.padEnd(widths[column] ?? 0)).join(' | ')} |`;

  process.stdout.write(`\n${line(header)}\n`);
  process.stdout.write(`${line(widths.map((width) => '-'.repeat(width)))}\n`);
  for (const cell of cells) process.stdout.write(`${line(cell)}\n`);
}

const verdict = (pass: boolean | undefined) => (pass === undefined ? '' : pass ? 'pass' : 'FAIL');
const kb = (bytes: number) => `${round(bytes / 1000, 1)} kB`;
const ms = (value: number) => `${round(value, 1)} ms`;
const signed = (value: number, digits = 1) => `${value >= 0 ? '+' : ''}${round(value, digits)} ms`;
const gbSeconds = (milliseconds: number) => (MEMORY_GB * (milliseconds / 1000)).toExponential(2);

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
