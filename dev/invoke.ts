/**
 * `npm run invoke -- <event.json> [--async] [--function dds-backup]`: invokes a function with
 * the official FC client. Against the local gateway by default (--gateway, else
 * FC_GATEWAY_URL, else the usual local URL), signed with the emulator's role key. Against real
 * FC when --region and --account-id are given, signed with the ALIBABA_CLOUD_* keys.
 *
 * @alicloud/fc2 is imported here only: it does not bundle with esbuild and the function never
 * needs it.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import FCClient, { type FCClientConfig, type FCResponse } from '@alicloud/fc2';
import { DEFAULT_ACCOUNTS } from '../emulator/index';
import { describeFailure, MissingVariableError, UsageError } from './errors';
import { defaultGatewayUrl, LOCAL, say } from './local';

const USAGE = `npm run invoke -- <event.json> [--async] [--function dds-backup]
  [--service <name>] [--qualifier LATEST] [--gateway http://127.0.0.1:${LOCAL.gatewayPort}]
  real FC: [--region cn-hangzhou --account-id <id>] with ALIBABA_CLOUD_ACCESS_KEY_ID,
  ALIBABA_CLOUD_ACCESS_KEY_SECRET and, for STS keys, ALIBABA_CLOUD_SECURITY_TOKEN set`;

interface Target {
  accountId: string;
  config: FCClientConfig;
  description: string;
}

const TIMEOUT_MS = 150_000;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      async: { type: 'boolean', default: false },
      function: { type: 'string', default: 'dds-backup' },
      service: { type: 'string' },
      qualifier: { type: 'string' },
      gateway: { type: 'string' },
      region: { type: 'string' },
      'account-id': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || positionals.length !== 1) {
    process.stderr.write(`${USAGE}\n`);
    process.exit(values.help ? 0 : 2);
  }

  const event = readFileSync(positionals[0] ?? '');
  const target = chooseTarget(values.region, values['account-id'], values.gateway);
  say(`invoking ${values.function} on ${target.description}${values.async ? ' (async)' : ''}`);

  const client = new FCClient(target.accountId, target.config);
  const headers: Record<string, string> = values.async ? { 'x-fc-invocation-type': 'Async' } : {};
  const response = await client.invokeFunction(
    values.service ?? values.function,
    values.function,
    event,
    headers,
    values.qualifier,
  );
  process.exitCode = printResponse(response, values.async);
}

function chooseTarget(
  region: string | undefined,
  accountId: string | undefined,
  gateway: string | undefined,
): Target {
  if (region === undefined && accountId === undefined) return localTarget(gateway);
  if (region === undefined || accountId === undefined) {
    throw new UsageError('real FC needs both --region and --account-id');
  }
  if (gateway !== undefined) throw new UsageError('--gateway is for the local gateway only');
  return cloudTarget(region, accountId);
}

function localTarget(gateway: string | undefined): Target {
  const endpoint = gateway ?? process.env.FC_GATEWAY_URL ?? defaultGatewayUrl();
  const role = DEFAULT_ACCOUNTS[0];
  if (role?.securityToken === undefined) throw new Error('the emulator has no STS role account');

  const config: FCClientConfig = {
    accessKeyID: role.accessKeyId,
    accessKeySecret: role.accessKeySecret,
    securityToken: role.securityToken,
    region: LOCAL.region,
    endpoint: endpoint.replace(/\/+$/, ''),
    timeout: TIMEOUT_MS,
  };
  return { accountId: LOCAL.accountId, config, description: `the local gateway ${endpoint}` };
}

function cloudTarget(region: string, accountId: string): Target {
  const accessKeyID = requiredVariable('ALIBABA_CLOUD_ACCESS_KEY_ID');
  const accessKeySecret = requiredVariable('ALIBABA_CLOUD_ACCESS_KEY_SECRET');
  const securityToken = process.env.ALIBABA_CLOUD_SECURITY_TOKEN;

  const config: FCClientConfig = {
    accessKeyID,
    accessKeySecret,
    ...(securityToken ? { securityToken } : {}),
    region,
    secure: true,
    timeout: TIMEOUT_MS,
  };
  return { accountId, config, description: `Function Compute in ${region} (real)` };
}

function requiredVariable(name: string): string {
  const value = process.env[name]?.trim();
  if (!value) throw new MissingVariableError(name, 'real FC calls are signed with it');
  return value;
}

/** The result on stdout; 0 when the function ran without throwing, else 1. */
function printResponse(response: FCResponse, async: boolean): number {
  const requestId = String(response.headers['x-fc-request-id'] ?? '-');
  if (async) {
    say(`accepted, request id ${requestId}; the function runs in the background`);
    return 0;
  }

  const errorType = response.headers['x-fc-error-type'];
  const data = typeof response.data === 'string' ? response.data : pretty(response.data);
  process.stdout.write(`${data}\n`);
  if (errorType !== undefined) {
    say(`request ${requestId}: the function failed (${String(errorType)})`);
    return 1;
  }
  say(`request ${requestId}: done`);
  return 0;
}

const pretty = (value: unknown): string => JSON.stringify(value, null, 2);

main().catch((error: unknown) => {
  say(describeFailure(error));
  process.exit(2);
});
