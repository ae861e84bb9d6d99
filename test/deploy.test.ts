/**
 * What `s deploy` cannot check on this machine: s.yaml against the built bundle, FC's trigger
 * and environment rules and our own request schema; the RAM policies; the SLS index.
 * Each checker also gets a broken copy, so a checker that passes everything fails here.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  checkCron,
  checkTemplate,
  ENV_LIMIT_BYTES,
  environmentBytes,
} from '../deploy/check-template';
import { type Policy, renderPolicy } from '../deploy/render-policy';

const ROOT = resolve(__dirname, '..');
const TEMPLATE = readFileSync(join(ROOT, 's.yaml'), 'utf8');

/** What a deployer exports before `s deploy`, as docs/deploy.md lists it. */
const DEPLOY_ENV = {
  DDS_BACKUP_REGION: 'cn-hangzhou',
  DDS_BACKUP_ROLE_ARN: 'acs:ram::1234567890123456:role/dds-backup',
  DDS_BACKUP_ALLOWED_INSTANCE_IDS: 'dds-bp1a2b3c4d5e6f7g8h,dds-bp9z8y7x6w5v4u3t2s',
  DDS_BACKUP_LOG_PROJECT: 'dds-backup-logs',
  DDS_BACKUP_WEBHOOK_SECRET: 'f'.repeat(64),
};

type Json = Record<string, unknown>;

function check(text: string, env: Record<string, string> = DEPLOY_ENV): string[] {
  return checkTemplate(text, { env, root: ROOT, requireEnv: true });
}

function functionProps(name: string): Json {
  const resources = (parse(TEMPLATE) as { resources: Record<string, { props: Json }> }).resources;
  const resource = resources[name];
  if (resource === undefined) throw new Error(`s.yaml has no resource ${name}`);
  return resource.props;
}

function triggers(name: string): Json[] {
  return functionProps(name).triggers as Json[];
}

function readJson<T = Json>(file: string): T {
  return JSON.parse(readFileSync(join(ROOT, file), 'utf8')) as T;
}

function instanceIds(count: number): string {
  return Array.from(
    { length: count },
    (_, index) => `dds-bp${String(index).padStart(16, '0')}`,
  ).join(',');
}

beforeAll(() => {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'pipe' });
}, 60_000);

describe('s.yaml', () => {
  it('passes every check once the deploy variables are exported', () => {
    expect(check(TEMPLATE)).toEqual([]);
  });

  it('reads region, role, allow-list, log project and secret from the environment', () => {
    expect(check(TEMPLATE, {})).toEqual([
      'DDS_BACKUP_REGION: is not set',
      'DDS_BACKUP_ROLE_ARN: is not set',
      'DDS_BACKUP_ALLOWED_INSTANCE_IDS: is not set',
      'DDS_BACKUP_LOG_PROJECT: is not set',
      'DDS_BACKUP_WEBHOOK_SECRET: is not set',
    ]);
  });

  it('deploys both functions on nodejs20 from the one bundle, whose handler is exported', () => {
    for (const name of ['dds-backup', 'dds-backup-webhook']) {
      const props = functionProps(name);
      expect(props).toMatchObject({
        functionName: name,
        runtime: 'nodejs20',
        code: './dist/create-backup',
        handler: 'index.handler',
        memorySize: 128,
      });
    }

    const bundle = createRequire(__filename)(join(ROOT, 'dist/create-backup/index.js')) as Json;
    expect(typeof bundle.handler).toBe('function');
  });

  it('gives the timer function 120 s and the webhook 30 s', () => {
    expect(functionProps('dds-backup').timeout).toBe(120);
    expect(functionProps('dds-backup-webhook').timeout).toBe(30);
  });

  it('retries a failed async invocation twice', () => {
    expect(functionProps('dds-backup').asyncInvokeConfig).toMatchObject({
      maxAsyncRetryAttempts: 2,
    });
  });

  it('puts the HTTP trigger alone on the webhook function, POST only', () => {
    expect(triggers('dds-backup-webhook')).toEqual([
      {
        triggerName: 'webhook',
        triggerType: 'http',
        triggerConfig: { authType: 'anonymous', methods: ['POST'], disableURLInternet: false },
      },
    ]);
    expect(triggers('dds-backup').map((trigger) => trigger.triggerType)).not.toContain('http');
  });

  it('fires the emulator seed instance from the default timer payload', () => {
    const config = triggers('dds-backup')[0]?.triggerConfig as Json;

    expect(JSON.parse(String(config.payload))).toEqual({
      DBInstanceId: 'dds-bp1a2b3c4d5e6f7g8h',
      BackupMethod: 'Snapshot',
    });
  });

  it('guards the webhook with the HMAC check and a secret from the environment', () => {
    expect(functionProps('dds-backup-webhook').environmentVariables).toMatchObject({
      HTTP_AUTH: 'signature',
      WEBHOOK_SECRET: `\${env('DDS_BACKUP_WEBHOOK_SECRET')}`,
    });
  });
});

describe('the s.yaml checker, given a broken copy', () => {
  it('reports a handler the bundle does not export', () => {
    const broken = TEMPLATE.replace('handler: index.handler', 'handler: index.main');

    expect(check(broken)).toEqual([
      'resources.dds-backup.props.handler: ./dist/create-backup/index.js exports no function ' +
        'named main',
    ]);
  });

  it('reports a code folder that does not exist', () => {
    const broken = TEMPLATE.replace('code: ./dist/create-backup', 'code: ./dist/backup');

    expect(check(broken)[0]).toMatch(/props\.code: \.\/dist\/backup does not exist/);
  });

  it('reports a runtime other than nodejs20', () => {
    const broken = TEMPLATE.replace('runtime: nodejs20', 'runtime: nodejs18');

    expect(check(broken)).toEqual(['resources.dds-backup.props.runtime: must be nodejs20']);
  });

  it('reports a five-field schedule from the environment', () => {
    const problems = check(TEMPLATE, { ...DEPLOY_ENV, DDS_BACKUP_SCHEDULE: '0 2 * * *' });

    expect(problems).toEqual([
      'resources.dds-backup.props.triggers[0].triggerConfig.cronExpression: ' +
        '"0 2 * * *" has 5 fields; FC needs 6, seconds first',
    ]);
  });

  it('reports a timer payload the function would refuse', () => {
    const broken = TEMPLATE.replace('"BackupMethod":"Snapshot"', '"BackupMethod":"Snap"');

    expect(check(broken)).toEqual([
      'resources.dds-backup.props.triggers[0].triggerConfig.payload: the function would ' +
        'refuse it: BackupMethod: must be one of Logical, Physical, Snapshot',
    ]);
  });

  it('reports a timer payload that is not JSON', () => {
    const broken = TEMPLATE.replace('"BackupMethod":"Snapshot"}', '"BackupMethod":"Snapshot"');

    expect(check(broken)).toEqual([
      'resources.dds-backup.props.triggers[0].triggerConfig.payload: is not JSON',
    ]);
  });

  it('reports a secret written into the file', () => {
    const broken = TEMPLATE.replace(
      `WEBHOOK_SECRET: \${env('DDS_BACKUP_WEBHOOK_SECRET')}`,
      'WEBHOOK_SECRET: correct-horse-battery-staple',
    );

    expect(check(broken)).toEqual([
      'resources.dds-backup-webhook.props.environmentVariables.WEBHOOK_SECRET: holds a secret, ' +
        `so it must be \${env('NAME')} with no default`,
    ]);
  });

  it('reports a secret hidden in the default of an env reference', () => {
    const broken = TEMPLATE.replace(
      `\${env('DDS_BACKUP_WEBHOOK_SECRET')}`,
      `\${env('DDS_BACKUP_WEBHOOK_SECRET', 'correct-horse-battery-staple')}`,
    );

    expect(check(broken)).toHaveLength(1);
    expect(check(broken)[0]).toMatch(/WEBHOOK_SECRET: holds a secret/);
  });

  it('reports environment variables over 4 KB once the allow-list is filled in', () => {
    const env = { ...DEPLOY_ENV, DDS_BACKUP_ALLOWED_INSTANCE_IDS: instanceIds(200) };

    const problems = check(TEMPLATE, env);

    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^resources\.dds-backup\.props\.environmentVariables: \d+ bytes/);
  });

  it('reports a trigger name FC refuses', () => {
    const broken = TEMPLATE.replace('triggerName: nightly', 'triggerName: 2am backup');

    expect(check(broken)[0]).toMatch(/triggerName: "2am backup" must be 1-128 letters/);
  });

  it('reports an HTTP authType FC does not know', () => {
    const broken = TEMPLATE.replace('authType: anonymous', 'authType: hmac');

    expect(check(broken)).toEqual([
      'resources.dds-backup-webhook.props.triggers[0].triggerConfig.authType: "hmac" must be ' +
        'one of anonymous, function, jwt',
    ]);
  });

  it('reports a timer placed beside the HTTP trigger', () => {
    const timer = [
      '        - triggerName: extra',
      '          triggerType: timer',
      '          triggerConfig:',
      "            cronExpression: '@every 1h'",
      `            payload: '{"DBInstanceId":"dds-bp1a2b3c4d5e6f7g8h"}'`,
      '',
    ].join('\n');
    const broken = TEMPLATE.replace(
      '        - triggerName: webhook\n',
      (webhook) => timer + webhook,
    );

    expect(check(broken)).toEqual([
      'resources.dds-backup-webhook.props.triggers[1]: an HTTP trigger must be alone on its ' +
        'function',
    ]);
  });

  it('reports a log rule that would merge JSON lines', () => {
    const broken = TEMPLATE.replace('logBeginRule: None', 'logBeginRule: DefaultRegex');

    expect(check(broken)[0]).toMatch(/logConfig\.logBeginRule: must be None/);
  });
});

describe('environment size', () => {
  it('leaves room for an allow-list of 100 instances within FC 4 KB', () => {
    const env = { ...DEPLOY_ENV, DDS_BACKUP_ALLOWED_INSTANCE_IDS: instanceIds(100) };

    expect(check(TEMPLATE, env)).toEqual([]);
  });

  it('measures variables as the JSON FC stores', () => {
    expect(environmentBytes({ A: 'b' })).toBe(9);
    expect(ENV_LIMIT_BYTES).toBe(4096);
  });
});

describe('checkCron', () => {
  it.each([
    '0 0 2 * * *',
    'CRON_TZ=Asia/Shanghai 0 0 2 * * *',
    'CRON_TZ=UTC 0 0 0 * * SUN',
    '0 */15 * * * ?',
    '0 0 2 ? * MON-FRI',
    '0 30 1 1,15 jan-dec *',
    '0 0 0-23/6 * * *',
    '@every 30m',
    '@every 1h30m',
  ])('accepts %s', (expression) => {
    expect(checkCron(expression)).toBeUndefined();
  });

  it.each([
    ['0 2 * * *', 'has 5 fields'],
    ['0 0 0 2 * * * *', 'has 8 fields'],
    ['60 0 0 * * *', 'seconds "60": must be 0-59'],
    ['0 0 24 * * *', 'hours "24": must be 0-23'],
    ['0 0 0 0 * *', 'day of month "0": must be 1-31'],
    ['0 0 0 * 13 *', 'month "13": must be 1-12'],
    ['0 0 0 * * 7', 'day of week "7": must be 0-6'],
    ['0 0 0 * * MON-SUN', 'runs backwards'],
    ['? 0 0 * * *', '? is allowed only in the day fields'],
    ['0 0 0 L * *', 'day of month "L"'],
    ['0 */0 * * * *', 'step "0"'],
    ['0 1/2/3 * * * *', 'more than one /'],
    ['CRON_TZ=Mars/Olympus 0 0 2 * * *', 'not an IANA time zone'],
    ['@every', 'must be @every and a duration'],
    ['@every 30 minutes', 'must be @every and a duration'],
    ['@every 0m', 'longer than zero'],
  ])('refuses %s', (expression, problem) => {
    expect(checkCron(expression)).toContain(problem);
  });
});

const DDS_ACTIONS = [
  'dds:CreateBackup',
  'dds:DescribeDBInstanceAttribute',
  'dds:DescribeBackupTasks',
  'dds:DescribeBackups',
];
const INSTANCE_ARN = /^acs:dds:[^:*]+:[^:*]+:dbinstance\/[^*]+$/;

/** The backup policy grants the four actions, on named instances, and nothing else. */
function checkBackupPolicy(policy: Policy): string[] {
  const problems: string[] = [];
  const actions = policy.Statement.flatMap((statement) => [statement.Action].flat());
  const resources = policy.Statement.flatMap((statement) => [statement.Resource ?? []].flat());

  if (policy.Version !== '1') problems.push('Version must be "1"');
  if (policy.Statement.some((statement) => statement.Effect !== 'Allow')) {
    problems.push('every statement must Allow');
  }
  if ([...actions].sort().join() !== [...DDS_ACTIONS].sort().join()) {
    problems.push(`actions are ${actions.join(', ')}`);
  }
  if (actions.some((action) => action.includes('*'))) problems.push('an action has a wildcard');
  const wide = resources.filter((resource) => !INSTANCE_ARN.test(resource));
  if (wide.length > 0) problems.push(`not an instance ARN: ${wide.join(', ')}`);
  return problems;
}

describe('RAM policies', () => {
  const backup = readJson<Policy>('deploy/ram-policy.json');

  it('grants exactly the four backup actions, on instance ARNs only', () => {
    expect(checkBackupPolicy(backup)).toEqual([]);
    expect(backup.Statement[0]?.Resource).toEqual([
      'acs:dds:<region>:<account-id>:dbinstance/<instance-id>',
    ]);
  });

  it('reports a broken copy that widens the grant', () => {
    const broken: Policy = structuredClone(backup);
    broken.Statement.push({ Effect: 'Allow', Action: 'dds:*', Resource: 'acs:dds:*:*:*' });

    expect(checkBackupPolicy(broken)).toEqual([
      'actions are dds:CreateBackup, dds:DescribeDBInstanceAttribute, dds:DescribeBackupTasks, ' +
        'dds:DescribeBackups, dds:*',
      'an action has a wildcard',
      'not an instance ARN: acs:dds:*:*:*',
    ]);
  });

  it('keeps the tag-selection listing in its own optional policy', () => {
    expect(readJson('deploy/ram-policy-tag-selection.json')).toEqual({
      Version: '1',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['dds:DescribeDBInstances'],
          Resource: ['acs:dds:<region>:<account-id>:dbinstance/*'],
        },
      ],
    });
  });

  it('lets the role write logs to the one logstore only', () => {
    const logs = readJson<Policy>('deploy/ram-policy-logs.json');

    expect(logs.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: ['log:PostLogStoreLogs'],
        Resource: ['acs:log:<region>:<account-id>:project/<log-project>/logstore/<logstore>'],
      },
    ]);
  });

  it('lets only Function Compute assume the role', () => {
    const trust = readJson<Policy>('deploy/trust-policy.json');

    expect(trust.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { Service: ['fc.aliyuncs.com'] },
      },
    ]);
  });

  it('renders one instance ARN per allowed instance, leaving no placeholder', () => {
    const values = {
      region: 'cn-hangzhou',
      accountId: '1234567890123456',
      instanceIds: ['dds-bp1a2b3c4d5e6f7g8h', 'dds-bp9z8y7x6w5v4u3t2s'],
    };

    const rendered = renderPolicy(backup, values);

    expect(rendered.Statement[0]?.Resource).toEqual([
      'acs:dds:cn-hangzhou:1234567890123456:dbinstance/dds-bp1a2b3c4d5e6f7g8h',
      'acs:dds:cn-hangzhou:1234567890123456:dbinstance/dds-bp9z8y7x6w5v4u3t2s',
    ]);
    expect(checkBackupPolicy(rendered)).toEqual([]);
  });

  it('refuses to render a policy with a placeholder left unfilled', () => {
    const logs = readJson<Policy>('deploy/ram-policy-logs.json');
    const values = { region: 'cn-hangzhou', accountId: '1234567890123456', instanceIds: [] };

    expect(() => renderPolicy(logs, values)).toThrow(/no value was given for <log-project>/);
  });

  it('refuses an instance id that is not one', () => {
    const values = { region: 'cn-hangzhou', accountId: '1234567890123456', instanceIds: ['*'] };

    expect(() => renderPolicy(backup, values)).toThrow(/"\*" is not an instance id/);
  });
});

/** Every field the function writes on its log lines, which the SLS JSON index must cover. */
const LOG_FIELDS = [
  'time',
  'level',
  'msg',
  'requestId',
  'trigger',
  'functionName',
  'coldStart',
  'DBInstanceId',
  'BackupMethod',
  'status',
  'BackupJobId',
  'BackupId',
  'apiRequestId',
  'attempt',
  'durationMs',
  'errorCode',
  'errorMessage',
  'detail',
  'summary',
  'statusCode',
  'targets',
  'created',
  'deduplicated',
  'dryRun',
  'failed',
];
const NUMBER_FIELDS = [
  'attempt',
  'durationMs',
  'statusCode',
  'targets',
  'created',
  'deduplicated',
  'dryRun',
  'failed',
];

describe('SLS index', () => {
  const index = readJson<{ keys: Record<string, Json> }>('deploy/sls-index.json');
  const message = index.keys.message as { type: string; json_keys: Record<string, Json> };

  it('indexes every log field inside the message as JSON', () => {
    expect(message.type).toBe('json');
    expect(Object.keys(message.json_keys).sort()).toEqual([...LOG_FIELDS].sort());
  });

  it('indexes counts and durations as numbers so queries can compare them', () => {
    const numeric = Object.entries(message.json_keys)
      .filter(([, key]) => key.type === 'long')
      .map(([name]) => name);

    expect(numeric.sort()).toEqual([...NUMBER_FIELDS].sort());
  });
});
