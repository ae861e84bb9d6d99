import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { ddsClient, failureOf } from './helpers/emulator';

const dir = mkdtempSync(join(tmpdir(), 'dds-emulator-cli-'));
const faultsPath = join(dir, 'faults.json');
const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children) child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

interface Banner {
  url: string;
  endpoint: string;
  accounts: { accessKeyId: string }[];
}

/** Starts the CLI in one node process (tsx as a loader, so the pid is the emulator's own). */
async function startCli(args: string[]): Promise<Banner> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'emulator/cli.ts', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);

  const lines = createInterface({ input: child.stdout ?? process.stdin });
  for await (const line of lines) return JSON.parse(line) as Banner;
  throw new Error('the CLI printed nothing');
}

describe('emulator/cli.ts', () => {
  it('prints one JSON line with the URL and the default credentials, then serves', async () => {
    const banner = await startCli(['--port', '0', '--job-duration-ms', '1000']);

    const body = await ddsClient(banner).call('CreateBackup', {
      DBInstanceId: 'dds-bp1a2b3c4d5e6f7g8h',
    });

    expect(banner.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(banner.accounts.map((account) => account.accessKeyId)).toEqual([
      'STS.emulator-role',
      'LTAIemulator',
    ]);
    expect(body.BackupJobId).toMatch(/^\d+$/);
  });

  it('applies the faults file and re-reads it when it changes', async () => {
    writeFileSync(faultsPath, JSON.stringify([{ kind: 'serverError', count: 1 }]));
    const banner = await startCli(['--port', '0', '--faults', faultsPath]);
    const dds = ddsClient(banner);
    const describe = () =>
      dds.call('DescribeDBInstanceAttribute', { DBInstanceId: 'dds-bp1a2b3c4d5e6f7g8h' });

    const first = await failureOf(describe());
    writeFileSync(
      faultsPath,
      JSON.stringify([{ kind: 'throttle', count: 1, code: 'Throttling.Api' }]),
    );
    const reloaded = await eventually(() => failureOf(describe()));

    expect(first.code).toBe('InternalError');
    expect(reloaded.code).toBe('Throttling.Api');
  });
});

/** Retries until the watched file has been picked up (fs.watchFile polls). */
async function eventually<T>(attempt: () => Promise<T>): Promise<T> {
  let lastError: unknown;
  for (let i = 0; i < 40; i++) {
    try {
      return await attempt();
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw lastError;
}
