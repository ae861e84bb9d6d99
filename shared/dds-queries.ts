/**
 * Read-only look-ups around CreateBackup: what an instance is, and whether a backup that
 * would make ours a duplicate already exists. Responses are read defensively: a field the API
 * leaves out is treated as unknown, never as a crash.
 */
import type { Caller } from './backup';
import type { Config } from './config';
import type { ApiQuery, ApiResponse } from './dds-api';
import { ApiError, ErrorCode, RequestError } from './errors';
import { type BackupMethod, type BackupTarget, MAX_TARGETS } from './request';

export interface InstanceFacts {
  DBInstanceId: string;
  DBInstanceStatus: string;
  LockMode?: string;
  ReplicationFactor?: string;
  StorageType?: string;
}

export interface FoundBackup {
  BackupJobId?: string | undefined;
  BackupId?: string | undefined;
  detail: string;
}

export async function describeInstance(call: Caller, target: BackupTarget): Promise<InstanceFacts> {
  const response = await call('DescribeDBInstanceAttribute', { DBInstanceId: target.DBInstanceId });
  const instance = listAt(response, 'DBInstances', 'DBInstance')[0];
  if (instance === undefined) {
    throw new ApiError(
      'InvalidDBInstanceId.NotFound',
      `${target.DBInstanceId} was not found`,
      404,
      text(response.RequestId),
      false,
    );
  }

  return factsOf(instance, target.DBInstanceId);
}

/** What DescribeDBInstanceAttribute and DescribeDBInstances both say of an instance. */
function factsOf(instance: Entry, id: string): InstanceFacts {
  const facts: InstanceFacts = {
    DBInstanceId: id,
    DBInstanceStatus: text(instance.DBInstanceStatus) ?? 'Unknown',
  };
  for (const key of ['LockMode', 'ReplicationFactor', 'StorageType'] as const) {
    const value = text(instance[key]);
    if (value !== undefined) facts[key] = value;
  }
  return facts;
}

/** The job already running on an instance, once CreateBackup has said there is one. */
export async function describeBackupJobs(
  call: Caller,
  target: BackupTarget,
): Promise<FoundBackup | undefined> {
  const response = await call('DescribeBackupTasks', { DBInstanceId: target.DBInstanceId });
  const job = asList(response.BackupJobs).find((entry) => entry.BackupSetStatus !== 'Finished');
  if (job === undefined) return undefined;

  // The API spells this one field BackupjobId, with a lower-case j.
  const jobId = text(job.BackupjobId) ?? text(job.BackupJobId);
  const mode = text(job.JobMode) ?? 'unknown';
  return {
    BackupJobId: jobId,
    detail: `a backup job (${mode}) is already ${text(job.BackupSetStatus) ?? 'running'}`,
  };
}

/**
 * A Manual backup of the instance started within DEDUPE_WINDOW_MINUTES, by the same method
 * when one is known, and not failed: asking again would only duplicate it. A timer that fires
 * twice, an async retry and a webhook sent twice all land here.
 */
export async function findRecentManualBackup(
  call: Caller,
  target: BackupTarget,
  method: BackupMethod | undefined,
  config: Config,
  now: number = Date.now(),
): Promise<FoundBackup | undefined> {
  if (config.dedupeWindowMinutes === 0) return undefined;

  const windowStart = now - config.dedupeWindowMinutes * 60_000;
  const response = await call('DescribeBackups', {
    DBInstanceId: target.DBInstanceId,
    // The API takes minutes only; the exact window is applied below.
    StartTime: toApiMinute(windowStart),
    EndTime: toApiMinute(now + 60_000),
    PageSize: 100,
    PageNumber: 1,
  });

  const match = listAt(response, 'Backups', 'Backup').find((backup) => {
    const startedAt = Date.parse(text(backup.BackupStartTime) ?? '');
    return (
      backup.BackupMode === 'Manual' &&
      backup.BackupStatus !== 'Failed' &&
      startedAt >= windowStart &&
      (method === undefined || backup.BackupMethod === method)
    );
  });
  if (match === undefined) return undefined;

  return {
    BackupJobId: text(match.BackupJobId),
    BackupId: text(match.BackupId),
    detail: `a Manual backup started at ${text(match.BackupStartTime)}, within DEDUPE_WINDOW_MINUTES`,
  };
}

/**
 * Every instance in `region` that carries all of `tags`, page by page, with what the listing
 * says of it (so choosing a method needs no further call). A selection of nothing is an error,
 * not an empty success: a misspelt tag must not pass for a quiet night.
 */
export async function findTaggedInstances(
  call: Caller,
  region: string,
  tags: Readonly<Record<string, string>>,
): Promise<InstanceFacts[]> {
  const filter: ApiQuery = { RegionId: region, PageSize: 100 };
  Object.entries(tags).forEach(([key, value], index) => {
    filter[`Tag.${index + 1}.Key`] = key;
    filter[`Tag.${index + 1}.Value`] = value;
  });
  const described = Object.entries(tags)
    .map(([key, value]) => `${key}=${value}`)
    .join(', ');

  const found: InstanceFacts[] = [];
  for (let page = 1; ; page++) {
    const response = await call('DescribeDBInstances', { ...filter, PageNumber: page });
    const total = Number(response.TotalCount ?? 0);
    if (total > MAX_TARGETS) {
      throw new RequestError(
        `tags: ${described} select ${total} instances; the limit is ${MAX_TARGETS}`,
      );
    }

    const onPage = listAt(response, 'DBInstances', 'DBInstance').flatMap((instance) => {
      const id = text(instance.DBInstanceId);
      return id === undefined ? [] : [factsOf(instance, id)];
    });
    found.push(...onPage);
    if (onPage.length === 0 || found.length >= total) break;
  }

  if (found.length === 0) {
    throw new RequestError(
      `tags: no instance in ${region} has the tags ${described}`,
      ErrorCode.NoInstanceSelected,
    );
  }
  return found;
}

/** yyyy-MM-ddTHH:mmZ in UTC, the only form DescribeBackups accepts. */
export function toApiMinute(epochMs: number): string {
  return `${new Date(epochMs).toISOString().slice(0, 16)}Z`;
}

type Entry = Record<string, unknown>;

/** The API wraps lists twice ({Backups: {Backup: [...]}}); a missing level means an empty list. */
function listAt(response: ApiResponse, outer: string, inner: string): Entry[] {
  const wrapper = response[outer];
  if (wrapper === null || typeof wrapper !== 'object') return [];
  return asList((wrapper as Entry)[inner]);
}

function asList(value: unknown): Entry[] {
  if (!Array.isArray(value)) return [];
  return value.filter((item): item is Entry => item !== null && typeof item === 'object');
}

/** A field of an API answer as text; ids come as strings or numbers, absent ones as ''. */
export function text(value: unknown): string | undefined {
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' && value !== '' ? value : undefined;
}
