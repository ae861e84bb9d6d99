// `npm run sign-webhook` prints headers the function accepts, and refuses to run without a secret.

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { verifyWebhook } from '../shared/webhook-auth';
import { WEBHOOK_SECRET } from './helpers/fc';

const run = promisify(execFile);
const ROOT = join(__dirname, '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const BODY = '{"DBInstanceId":"dds-bp1a2b3c4d5e6f7g8h","BackupMethod":"Snapshot"}';

function signCommand(env: Record<string, string>) {
  return run(TSX, ['dev/sign-webhook.ts', BODY, '--url', 'http://127.0.0.1:9000/'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
  });
}

describe('sign-webhook', () => {
  it('prints headers that verify against the body and a curl line that sends it', async () => {
    const { stdout } = await signCommand({ WEBHOOK_SECRET });

    const headers = new Map(
      [...stdout.matchAll(/^(X-Backup-[\w-]+): (\S+)$/gm)].map(([, name, value]) => [
        String(name).toLowerCase(),
        String(value),
      ]),
    );
    expect(headers.size).toBe(2);
    expect(verifyWebhook([WEBHOOK_SECRET], headers, Buffer.from(BODY))).toEqual({ ok: true });
    expect(stdout).toMatch(/curl .*http:\/\/127\.0\.0\.1:9000\//s);
    expect(stdout).toContain('--data-binary');
    expect(stdout).not.toContain(WEBHOOK_SECRET);
  });

  it('names WEBHOOK_SECRET when it is not set', async () => {
    const failure = await signCommand({}).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );

    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toContain('WEBHOOK_SECRET');
  });
});
