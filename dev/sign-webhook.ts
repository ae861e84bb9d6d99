/**
 * `npm run sign-webhook -- '<json body>'` (or --file body.json, or the body on stdin): prints
 * the X-Backup-Timestamp and X-Backup-Signature headers for WEBHOOK_SECRET, and a curl line
 * that sends exactly those bytes. The signature is valid for 5 minutes.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { signingSecret, signWebhook } from '../shared/webhook-auth';
import { describeFailure, MissingVariableError, UsageError } from './errors';
import { defaultGatewayUrl, say } from './local';
import { curlCommand } from './webhook-curl';

const USAGE = `npm run sign-webhook -- '<json body>' [--url http://127.0.0.1:9000/]
npm run sign-webhook -- --file body.json
echo '<json body>' | npm run sign-webhook`;

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      file: { type: 'string' },
      url: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stderr.write(`${USAGE}\n`);
    return;
  }

  const configured = process.env.WEBHOOK_SECRET;
  if (!configured) {
    throw new MissingVariableError('WEBHOOK_SECRET', 'set it to the secret the function uses');
  }
  const secret = signingSecret(configured);
  const body = readBody(positionals, values.file);
  const url = values.url ?? `${process.env.FC_GATEWAY_URL ?? defaultGatewayUrl()}/`;

  for (const [name, value] of Object.entries(signWebhook(secret, body))) {
    process.stdout.write(`${name}: ${value}\n`);
  }
  process.stdout.write(`\n${curlCommand(url, secret, body)}\n`);
}

/** The body exactly as it will be sent: the signature covers every byte. */
function readBody(positionals: string[], file: string | undefined): string {
  if (file !== undefined && positionals.length > 0) {
    throw new UsageError('give the body as an argument or with --file, not both');
  }
  if (file !== undefined) return readFileSync(file, 'utf8');
  if (positionals.length > 1) throw new UsageError('quote the body: it must be one argument');
  if (positionals[0] !== undefined) return positionals[0];
  if (process.stdin.isTTY) throw new UsageError(`no body given\n${USAGE}`);
  return readFileSync(0, 'utf8');
}

try {
  main();
} catch (error) {
  say(describeFailure(error));
  process.exitCode = 2;
}
