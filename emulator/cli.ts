// Runs the emulator in the foreground:
//   npx tsx emulator/cli.ts --port 8787 --seed emulator/seed/instances.json \
//     --faults faults.json --job-duration-ms 3000
// Prints one JSON line with the URL and the default credentials, then serves until stopped.
// The faults file is re-read whenever it changes.

import { existsSync, readFileSync, unwatchFile, watchFile } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_ACCOUNTS, DEFAULT_JOB_DURATION_MS, startEmulator } from './index';
import { parseFaults, parseSeeds } from './schema';
import type { Emulator, FaultSpec } from './types';

const DEFAULT_PORT = 8787;
const WATCH_INTERVAL_MS = 500;

class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'));
}

function integerOption(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) throw new CliUsageError(`--${name} takes a whole number, not "${text}"`);
  return Number(text);
}

/** An absent faults file means no faults, so it can be created after the emulator starts. */
function readFaults(path: string): FaultSpec[] {
  return existsSync(path) ? parseFaults(readJson(path)) : [];
}

function watchFaults(emulator: Emulator, path: string): void {
  watchFile(path, { interval: WATCH_INTERVAL_MS }, () => {
    try {
      const faults = readFaults(path);
      emulator.setFaults(faults);
      console.error(JSON.stringify({ message: 'faults reloaded', path, faults }));
    } catch (error) {
      // Keep the previous faults: a half-written file should not stop the emulator.
      console.error(JSON.stringify({ message: 'faults file ignored', path, error: String(error) }));
    }
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      seed: { type: 'string' },
      faults: { type: 'string' },
      'job-duration-ms': { type: 'string' },
    },
    strict: true,
  });

  const faultsPath = values.faults;
  const emulator = await startEmulator({
    port: integerOption('port', values.port, DEFAULT_PORT),
    jobDurationMs: integerOption(
      'job-duration-ms',
      values['job-duration-ms'],
      DEFAULT_JOB_DURATION_MS,
    ),
    ...(values.seed === undefined ? {} : { instances: parseSeeds(readJson(values.seed)) }),
    ...(faultsPath === undefined ? {} : { faults: readFaults(faultsPath) }),
  });
  if (faultsPath !== undefined) watchFaults(emulator, faultsPath);

  console.log(
    JSON.stringify({ url: emulator.url, endpoint: emulator.endpoint, accounts: DEFAULT_ACCOUNTS }),
  );

  const stop = () => {
    if (faultsPath !== undefined) unwatchFile(faultsPath);
    void emulator.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  process.exit(1);
});
