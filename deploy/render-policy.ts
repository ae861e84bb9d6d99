/**
 * Fills the placeholders of a policy file in deploy/ (<region>, <account-id>, <instance-id>,
 * <log-project>, <logstore>, <queue>) so the committed files stay free of any account's ids.
 * A resource naming <instance-id> is written once per instance, so the role reaches exactly
 * the instances of the allow-list.
 *
 *   npx tsx deploy/render-policy.ts deploy/ram-policy.json > /tmp/policy.json
 *
 * Values come from DDS_BACKUP_REGION, DDS_BACKUP_ACCOUNT_ID, DDS_BACKUP_ALLOWED_INSTANCE_IDS,
 * DDS_BACKUP_LOG_PROJECT, DDS_BACKUP_LOGSTORE (default dds-backup) and DDS_BACKUP_FAILURE_QUEUE.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { INSTANCE_ID_PATTERN, REGION_PATTERN } from '../shared/request';

export interface PolicyStatement {
  Effect: string;
  Action: string | string[];
  Resource?: string | string[];
  [other: string]: unknown;
}

export interface Policy {
  Version: string;
  Statement: PolicyStatement[];
}

export interface PolicyValues {
  region: string;
  accountId: string;
  instanceIds: readonly string[];
  logProject?: string;
  logstore?: string;
  queue?: string;
}

const PLACEHOLDER = /<[a-z-]+>/;

export function renderPolicy(policy: Policy, values: PolicyValues): Policy {
  checkValues(values);

  const Statement = policy.Statement.map((statement) => {
    if (statement.Resource === undefined) return statement;
    const resources = [statement.Resource].flat().flatMap((arn) => renderArn(arn, values));
    return { ...statement, Resource: resources };
  });
  return { ...policy, Statement };
}

function renderArn(arn: string, values: PolicyValues): string[] {
  const filled = arn
    .replaceAll('<region>', values.region)
    .replaceAll('<account-id>', values.accountId)
    .replaceAll('<log-project>', values.logProject ?? '<log-project>')
    .replaceAll('<logstore>', values.logstore ?? '<logstore>')
    .replaceAll('<queue>', values.queue ?? '<queue>');
  const arns = filled.includes('<instance-id>')
    ? values.instanceIds.map((id) => filled.replaceAll('<instance-id>', id))
    : [filled];

  const left = arns.map((one) => PLACEHOLDER.exec(one)?.[0]).find((found) => found);
  if (left !== undefined) throw new Error(`${arn}: no value was given for ${left}`);
  return arns;
}

function checkValues(values: PolicyValues): void {
  if (!REGION_PATTERN.test(values.region)) {
    throw new Error(`region: "${values.region}" is not a region id such as cn-hangzhou`);
  }
  if (!/^\d{6,20}$/.test(values.accountId)) {
    throw new Error(`account id: "${values.accountId}" is not an Alibaba Cloud account id`);
  }
  const invalid = values.instanceIds.find((id) => !INSTANCE_ID_PATTERN.test(id));
  if (invalid !== undefined) throw new Error(`instance ids: "${invalid}" is not an instance id`);
}

/** Splits an allow-list the way the function's config does: commas, blanks ignored. */
export function splitIds(list: string | undefined): string[] {
  return (list ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
}

function valuesFromEnv(env: NodeJS.ProcessEnv): PolicyValues {
  const values: PolicyValues = {
    region: env.DDS_BACKUP_REGION ?? '',
    accountId: env.DDS_BACKUP_ACCOUNT_ID ?? '',
    instanceIds: splitIds(env.DDS_BACKUP_ALLOWED_INSTANCE_IDS),
    logstore: env.DDS_BACKUP_LOGSTORE || 'dds-backup',
  };
  if (env.DDS_BACKUP_LOG_PROJECT) values.logProject = env.DDS_BACKUP_LOG_PROJECT;
  if (env.DDS_BACKUP_FAILURE_QUEUE) values.queue = env.DDS_BACKUP_FAILURE_QUEUE;
  return values;
}

function main(file: string | undefined): void {
  if (file === undefined) throw new Error('usage: render-policy.ts <policy.json>');

  const policy = JSON.parse(readFileSync(file, 'utf8')) as Policy;
  const values = valuesFromEnv(process.env);
  if (values.instanceIds.length === 0 && JSON.stringify(policy).includes('<instance-id>')) {
    throw new Error('DDS_BACKUP_ALLOWED_INSTANCE_IDS is empty: the policy would grant nothing');
  }
  process.stdout.write(`${JSON.stringify(renderPolicy(policy, values))}\n`);
}

const script = process.argv[1];
if (script !== undefined && import.meta.url === pathToFileURL(script).href) {
  try {
    main(process.argv[2]);
  } catch (error) {
    process.stderr.write(`render-policy: ${(error as Error).message}\n`);
    process.exit(1);
  }
}
