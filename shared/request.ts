/**
 * The backup request: what callers send, checked field by field before any API call.
 * Every refusal names the field, so a CI pipeline or a runbook author can fix it at once.
 */
import * as v from 'valibot';
import { RequestError } from './errors';

export const BACKUP_METHODS = ['Logical', 'Physical', 'Snapshot'] as const;
export type BackupMethod = (typeof BACKUP_METHODS)[number];

export const MAX_TARGETS = 500;
export const INSTANCE_ID_PATTERN = /^(dds|d)-[a-z0-9]{6,40}$/;
export const REGION_PATTERN = /^[a-z]{2,8}(-[a-z0-9]{1,16}){1,3}$/;

/** One instance to back up, after aliases and request-level defaults are resolved. */
export interface BackupTarget {
  DBInstanceId: string;
  BackupMethod?: BackupMethod;
  BackupRetentionPeriod?: number;
  RegionId?: string;
}

/** Instances chosen by their tags rather than by id, sharing the request's other fields. */
export interface TagSelection {
  tags: Readonly<Record<string, string>>;
  template: Omit<BackupTarget, 'DBInstanceId'>;
}

export interface BackupRequest {
  /** Empty when `selection` chooses the instances. */
  targets: BackupTarget[];
  dryRun: boolean;
  selection?: TagSelection;
}

/** DescribeDBInstances filters on 20 tags at most. */
export const MAX_TAGS = 20;

const instanceId = v.pipe(
  v.string('must be a string'),
  v.regex(INSTANCE_ID_PATTERN, 'must be an instance id: dds- or d- then 6 to 40 of a-z, 0-9'),
);
const backupMethod = v.picklist(BACKUP_METHODS, `must be one of ${BACKUP_METHODS.join(', ')}`);
const retentionDays = v.union(
  [v.literal(-1), v.pipe(v.number(), v.integer(), v.minValue(7), v.maxValue(730))],
  'must be -1 (keep forever) or a whole number of days from 7 to 730',
);
const regionId = v.pipe(
  v.string('must be a string'),
  v.regex(REGION_PATTERN, 'must be a region id such as cn-hangzhou'),
);

/** The target fields, each under its API name and its camelCase alias. */
const targetEntries = {
  DBInstanceId: v.optional(instanceId),
  instanceId: v.optional(instanceId),
  BackupMethod: v.optional(backupMethod),
  method: v.optional(backupMethod),
  BackupRetentionPeriod: v.optional(retentionDays),
  retentionPeriod: v.optional(retentionDays),
  RegionId: v.optional(regionId),
  regionId: v.optional(regionId),
};

const TargetSchema = v.strictObject(targetEntries, 'must be an object');

const tagText = v.pipe(
  v.string('must be text'),
  v.minLength(1, 'must not be empty'),
  v.maxLength(128, 'must be at most 128 characters'),
);
const TAGS_SHAPE = 'must be an object of tag keys and values';
const tags = v.pipe(
  // A record schema alone would take a list, with its indexes as keys.
  v.custom<object>((value) => typeof value === 'object' && !Array.isArray(value), TAGS_SHAPE),
  v.record(tagText, tagText, TAGS_SHAPE),
  v.check(
    (value) => Object.keys(value).length >= 1 && Object.keys(value).length <= MAX_TAGS,
    `must name 1 to ${MAX_TAGS} tags`,
  ),
);

const RequestSchema = v.strictObject(
  {
    ...targetEntries,
    targets: v.optional(
      v.pipe(
        v.array(TargetSchema, 'must be a list of targets'),
        v.minLength(1, 'must name at least one target'),
        v.maxLength(MAX_TARGETS, `must name at most ${MAX_TARGETS} targets`),
      ),
    ),
    tags: v.optional(tags),
    dryRun: v.optional(v.boolean('must be true or false')),
  },
  'must be a JSON object',
);

type RawTarget = v.InferOutput<typeof TargetSchema>;

/**
 * Checks a decoded request and resolves it to targets. `implied` is a target that the trigger
 * itself names (an EventBridge event whose subject is an instance ARN), used when the request
 * names none.
 */
export function parseBackupRequest(input: unknown, implied?: BackupTarget): BackupRequest {
  const checked = v.safeParse(RequestSchema, input ?? {}, { abortEarly: true });
  if (!checked.success) throw new RequestError(describeIssue(checked.issues[0]));

  const { targets, tags, dryRun = false, ...shared } = checked.output;
  const defaults = resolveAliases(shared, '');

  if (tags !== undefined) {
    if (targets !== undefined || defaults.DBInstanceId !== undefined) {
      throw new RequestError('tags: choose instances by tags or by id, not both');
    }
    return { targets: [], dryRun, selection: { tags, template: withoutId(defaults) } };
  }

  if (targets !== undefined && defaults.DBInstanceId !== undefined) {
    throw new RequestError(
      'DBInstanceId: give either one DBInstanceId or a targets list, not both',
    );
  }

  const resolved = targets?.map((raw, index) => ({
    ...withoutId(defaults),
    ...resolveAliases(raw, `targets[${index}].`),
  }));
  const list = resolved ?? [{ ...implied, ...defaults }];

  return { targets: requireUniqueIds(list, resolved !== undefined), dryRun };
}

type PartialTarget = Partial<BackupTarget>;

function resolveAliases(raw: RawTarget, at: string): PartialTarget {
  return withoutUndefined({
    DBInstanceId: pick(raw, 'DBInstanceId', 'instanceId', at),
    BackupMethod: pick(raw, 'BackupMethod', 'method', at),
    BackupRetentionPeriod: pick(raw, 'BackupRetentionPeriod', 'retentionPeriod', at),
    RegionId: pick(raw, 'RegionId', 'regionId', at),
  });
}

function pick<K extends keyof RawTarget, A extends keyof RawTarget>(
  raw: RawTarget,
  name: K,
  alias: A,
  at: string,
): RawTarget[K] | RawTarget[A] {
  if (raw[name] !== undefined && raw[alias] !== undefined) {
    throw new RequestError(`${at}${name}: give ${name} or ${alias}, not both`);
  }
  return raw[name] ?? raw[alias];
}

/** Each target needs an id, and naming one instance twice in a request is surely a mistake. */
function requireUniqueIds(targets: PartialTarget[], listed: boolean): BackupTarget[] {
  const seenAt = new Map<string, number>();

  return targets.map((target, index) => {
    const at = listed ? `targets[${index}].` : '';
    const { DBInstanceId } = target;
    if (DBInstanceId === undefined) throw new RequestError(`${at}DBInstanceId: is required`);

    const first = seenAt.get(DBInstanceId);
    if (first !== undefined) {
      throw new RequestError(`${at}DBInstanceId: ${DBInstanceId} is already targets[${first}]`);
    }
    seenAt.set(DBInstanceId, index);
    return { ...target, DBInstanceId };
  });
}

function withoutId(target: PartialTarget): PartialTarget {
  const { DBInstanceId: _ignored, ...rest } = target;
  return rest;
}

/** Drops absent fields, so spreading a target never overwrites a default with undefined. */
function withoutUndefined(value: { [K in keyof BackupTarget]?: BackupTarget[K] | undefined }) {
  return Object.fromEntries(
    Object.entries(value).filter(([, entry]) => entry !== undefined),
  ) as PartialTarget;
}

/** "targets[2].BackupMethod: must be one of …", bounded so no input floods a log line. */
function describeIssue(issue: v.BaseIssue<unknown> | undefined): string {
  if (issue === undefined) return 'request: is not valid';

  const field = formatPath(issue.path);
  if (issue.type === 'strict_object' && issue.expected === 'never') {
    const known = Object.keys(targetEntries).concat('targets', 'tags', 'dryRun').join(', ');
    return `${field}: is not a known field (known: ${known})`;
  }
  return `${field || 'request'}: ${issue.message}`;
}

function formatPath(path: v.BaseIssue<unknown>['path']): string {
  let text = '';
  for (const item of path ?? []) {
    const key = String(item.key).slice(0, 64);
    text += typeof item.key === 'number' ? `[${key}]` : text === '' ? key : `.${key}`;
  }
  return text;
}
