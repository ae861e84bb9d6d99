// The fake secrets every test uses, and the record of where any of them was seen. The harness
// scans each log line and each answer; test/setup/leak-guard.ts scans stdout and stderr, and
// fails the file if anything leaked. So every scenario in the suite is also a leak test.

import type { EmulatorAccount } from '../../emulator/index';

/** Recognisable fakes: the role's STS keys that the fake FC context carries, and the webhook secret. */
export const ROLE: Required<EmulatorAccount> = {
  accessKeyId: 'STS.TestRoleKeyId0001',
  accessKeySecret: 'FAKE-ROLE-SECRET-do-not-print-7f3a',
  securityToken: 'FAKE-STS-TOKEN-do-not-print-91bc',
};

export const WEBHOOK_SECRET = 'FAKE-WEBHOOK-SECRET-do-not-print-55e1';

export const FAKE_SECRETS: readonly string[] = [
  ROLE.accessKeyId,
  ROLE.accessKeySecret,
  ROLE.securityToken,
  WEBHOOK_SECRET,
];

export interface Leak {
  where: string;
  secret: string;
  excerpt: string;
}

export const leaks: Leak[] = [];

/** Records each fake secret found in `text` in `into`. Returns true when something leaked. */
export function scanForSecrets(text: string, where: string, into: Leak[] = leaks): boolean {
  let leaked = false;
  for (const secret of FAKE_SECRETS) {
    const at = text.indexOf(secret);
    if (at === -1) continue;
    into.push({
      where,
      secret,
      excerpt: text.slice(Math.max(0, at - 60), at + secret.length + 20),
    });
    leaked = true;
  }
  return leaked;
}
