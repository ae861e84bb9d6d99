/**
 * The values the local stack uses in place of a real account, so every tool agrees on them.
 * The account id has FC's 16-digit shape and belongs to nobody.
 */
import { resolve } from 'node:path';

export const LOCAL = {
  accountId: '1234567890123456',
  region: 'cn-hangzhou',
  gatewayPort: 9000,
} as const;

export const REPO_ROOT = resolve(__dirname, '..');

export const DEFAULT_BUNDLE = resolve(REPO_ROOT, 'dist', 'create-backup', 'index.js');

export const DEFAULT_TEMPLATE = resolve(REPO_ROOT, 's.yaml');

export const defaultGatewayUrl = (): string => `http://127.0.0.1:${LOCAL.gatewayPort}`;

/** Human lines start with this, so they never mix with the function's JSON log lines. */
export const say = (text: string): void => {
  process.stderr.write(`▸ ${text}\n`);
};
