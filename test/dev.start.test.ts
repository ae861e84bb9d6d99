// `npm start -- --once` as a newcomer runs it: a child process on the real s.yaml and the
// default seed, with a freshly built bundle. Also the s.yaml reader it relies on.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFunction } from '../dev/bundle';
import { DEFAULT_TEMPLATE, REPO_ROOT } from '../dev/local';
import { readTemplate } from '../dev/stack';
import { defaultInstances } from '../emulator/index';

const SEED_INSTANCE = 'dds-bp1a2b3c4d5e6f7g8h';

let outDir: string;
let bundlePath: string;

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'dds-backup-start-'));
  bundlePath = await buildFunction(outDir);
});

afterAll(() => {
  rmSync(outDir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The caller's DDS_ENDPOINT and secrets stay out: the run must use the emulator. */
function startOnce(...extra: string[]): Promise<Run> {
  const {
    DDS_ENDPOINT: _endpoint,
    WEBHOOK_SECRET: _secret,
    LOG_LEVEL: _level,
    ...env
  } = process.env;
  const tsx = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
  const args = ['dev/start.ts', '--once', '--port', '0', '--bundle', bundlePath, ...extra];

  return new Promise((resolve, reject) => {
    const child = spawn(tsx, args, { cwd: REPO_ROOT, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const jsonLines = (text: string) =>
  text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('npm start -- --once', () => {
  it('fires the s.yaml timer, prints the created BackupJobId and exits 0', async () => {
    const run = await startOnce();

    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(new RegExp(`${SEED_INSTANCE} created: BackupJobId \\d+`));
    const summary = jsonLines(run.stdout).find((line) => line.msg === 'run summary');
    expect(summary).toMatchObject({ summary: 'OK', created: 1, trigger: 'timer' });
    expect(run.stderr).toMatch(/curl -sS -X POST .*\n.*\n\s+-H 'X-Backup-Timestamp: \d+'/);
    expect(run.stderr).toContain("-H 'X-Backup-Signature: sha256=");
  }, 60_000);

  it('exits non-zero when the timer backup fails', async () => {
    const seed = defaultInstances().map((instance) =>
      instance.DBInstanceId === SEED_INSTANCE ? { ...instance, LockMode: 'ManualLock' } : instance,
    );
    const seedPath = join(outDir, 'locked-seed.json');
    writeFileSync(seedPath, JSON.stringify(seed));

    const run = await startOnce('--seed', seedPath);

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`${SEED_INSTANCE} failed: \\S+`));
  }, 60_000);
});

describe('readTemplate', () => {
  it('finds the timer payload in the project s.yaml', () => {
    const functions = readTemplate(DEFAULT_TEMPLATE);

    const timer = functions.flatMap((spec) => spec.timers)[0];
    expect(JSON.parse(timer?.payload ?? '{}')).toMatchObject({ DBInstanceId: SEED_INSTANCE });
  });

  it('keeps literal values and leaves placeholders out', () => {
    const path = join(outDir, 's.yaml');
    // Built from pieces: the placeholders are s.yaml syntax, not template slots.
    const placeholder = (inner: string) => `$${'{'}${inner}}`;
    writeFileSync(
      path,
      [
        'resources:',
        '  fn:',
        '    props:',
        '      functionName: backup-fn',
        '      memorySize: 256',
        `      timeout: ${placeholder("env('TIMEOUT')")}`,
        '      environmentVariables:',
        '        LOG_LEVEL: debug',
        `        DDS_REGION: ${placeholder('vars.region')}`,
        '      triggers:',
        '        - triggerName: web',
        '          triggerType: http',
      ].join('\n'),
    );

    const [spec] = readTemplate(path);

    expect(spec).toMatchObject({
      functionName: 'backup-fn',
      handler: 'index.handler',
      memorySize: 256,
      timeout: undefined,
      environment: { LOG_LEVEL: 'debug' },
      hasHttpTrigger: true,
      timers: [],
    });
  });
});
