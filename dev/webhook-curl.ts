/** A curl command a person can paste to call the webhook, headers signed for its exact body. */
import { signingSecret, signWebhook } from '../shared/webhook-auth';

export const SAMPLE_WEBHOOK_BODY = JSON.stringify({
  DBInstanceId: 'dds-bp1a2b3c4d5e6f7g8h',
  BackupMethod: 'Snapshot',
});

/** Single quotes keep the shell from touching the body, whose bytes the signature covers. */
export const shellQuote = (text: string): string => `'${text.replaceAll("'", `'\\''`)}'`;

/** `secret` is WEBHOOK_SECRET as configured; during a rotation its first secret signs. */
export function curlCommand(url: string, secret: string, body: string): string {
  const headers = signWebhook(signingSecret(secret), body);
  const lines = [
    `curl -sS -X POST ${shellQuote(url)}`,
    `  -H 'Content-Type: application/json'`,
    ...Object.entries(headers).map(([name, value]) => `  -H ${shellQuote(`${name}: ${value}`)}`),
    `  --data-binary ${shellQuote(body)}`,
  ];
  return lines.join(' \\\n');
}
