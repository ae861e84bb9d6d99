// The five Dds actions the emulator serves: parameter checks and response shapes. Business rules
// live in state.ts.

import { ApiError, invalid, missing } from './errors';
import { type DdsState, type Instance, isCloudDisk, JobStatus, type JobView } from './state';

export const API_VERSION = '2015-12-01';

type Params = Record<string, string>;
type Body = Record<string, unknown>;
type Handler = (state: DdsState, params: Params) => Body;

const BACKUP_PAGE_SIZES = ['30', '50', '100'];
const MAX_TAGS = 20;

const handlers: Record<string, Handler> = {
  CreateBackup: createBackup,
  DescribeDBInstanceAttribute: describeDBInstanceAttribute,
  DescribeBackupTasks: describeBackupTasks,
  DescribeBackups: describeBackups,
  DescribeDBInstances: describeDBInstances,
};

/** Runs one verified request; the RequestId is added by the server. */
export function runAction(state: DdsState, action: string, version: string, params: Params): Body {
  const handler = Object.hasOwn(handlers, action) ? handlers[action] : undefined;
  if (handler === undefined) {
    throw new ApiError(
      404,
      'InvalidAction.NotFound',
      `Specified api ${action} is not found, please check your url and method.`,
    );
  }
  if (version !== API_VERSION) {
    throw new ApiError(
      400,
      'InvalidVersion',
      `Specified parameter Version ${version} is not valid.`,
    );
  }
  return handler(state, params);
}

function required(params: Params, name: string): string {
  const value = params[name];
  if (value === undefined || value === '') throw missing(name);
  return value;
}

function createBackup(state: DdsState, params: Params): Body {
  const job = state.createBackup({
    DBInstanceId: required(params, 'DBInstanceId'),
    BackupMethod: params.BackupMethod,
    BackupRetentionPeriod: params.BackupRetentionPeriod,
  });
  return { BackupJobId: job.BackupJobId, BackupId: job.BackupId };
}

function describeDBInstanceAttribute(state: DdsState, params: Params): Body {
  const instance = state.instance(required(params, 'DBInstanceId'));
  return { DBInstances: { DBInstance: [instanceBody(instance)] } };
}

function instanceBody(instance: Instance): Body {
  const { HasDatabase: _internal, Tags, ...fields } = instance;
  return { ...fields, Tags: { Tag: Tags.map((tag) => ({ ...tag })) } };
}

function describeBackupTasks(state: DdsState, params: Params): Body {
  const instance = state.instance(required(params, 'DBInstanceId'));
  const jobId = params.BackupJobId;

  // The vendor documents this call for cloud-disk instances only; a local-disk job is visible
  // through DescribeBackups once it finishes, so callers must not depend on this list.
  const running = isCloudDisk(instance)
    ? state.views(instance.DBInstanceId).filter((view) => view.status !== JobStatus.Finished)
    : [];

  const BackupJobs = running
    .filter((view) => jobId === undefined || view.job.BackupJobId === jobId)
    .map((view) => ({
      BackupjobId: view.job.BackupJobId,
      BackupSetStatus: view.status,
      BackupStartTime: formatSeconds(view.job.createdAt),
      Progress: `${view.progress}%`,
      JobMode: 'Manual',
    }));
  return { BackupJobs };
}

function describeBackups(state: DdsState, params: Params): Body {
  const instance = state.instance(required(params, 'DBInstanceId'));
  const start = parseMinutes('StartTime', required(params, 'StartTime'));
  const end = parseMinutes('EndTime', required(params, 'EndTime'));
  if (end < start) {
    throw new ApiError(400, 'InvalidEndTime.Malformed', 'EndTime must not be before StartTime.');
  }
  const page = pageOf(params, { sizes: BACKUP_PAGE_SIZES, defaultSize: 30 });
  const jobId = params.BackupJobId;

  const finished = state
    .views(instance.DBInstanceId)
    .filter((view) => view.status === JobStatus.Finished)
    .filter((view) => view.job.createdAt >= start && view.job.createdAt <= end)
    .filter((view) => jobId === undefined || view.job.BackupJobId === jobId)
    .map(backupBody);

  return {
    Backups: { Backup: finished.slice(page.offset, page.offset + page.size) },
    TotalCount: finished.length,
    PageNumber: page.number,
    PageSize: page.size,
  };
}

function backupBody(view: JobView): Body {
  const { job } = view;
  return {
    BackupId: job.BackupId,
    BackupJobId: job.BackupJobId,
    BackupStatus: 'Success',
    BackupMethod: job.BackupMethod,
    BackupMode: 'Manual',
    BackupType: 'FullBackup',
    BackupStartTime: formatSeconds(job.createdAt),
    BackupEndTime: formatSeconds(view.finishedAt),
    BackupSize: job.sizeBytes,
    BackupDBNames: '',
  };
}

function describeDBInstances(state: DdsState, params: Params): Body {
  const regionId = required(params, 'RegionId');
  const tags = tagFilter(params);
  const status = params.DBInstanceStatus;
  const page = pageOf(params, { sizes: undefined, defaultSize: 30 });

  const matching = [...state.instances.values()]
    .filter((instance) => instance.RegionId === regionId)
    .filter((instance) => status === undefined || instance.DBInstanceStatus === status)
    .filter((instance) => tags.every((tag) => hasTag(instance, tag)));

  return {
    DBInstances: {
      DBInstance: matching.slice(page.offset, page.offset + page.size).map(instanceBody),
    },
    TotalCount: matching.length,
    PageNumber: page.number,
    PageSize: page.size,
  };
}

interface TagFilter {
  key: string;
  value: string | undefined;
}

function tagFilter(params: Params): TagFilter[] {
  const filters: TagFilter[] = [];
  for (const name of Object.keys(params)) {
    const match = /^Tag\.(\d+)\.(Key|Value)$/.exec(name);
    if (match === null) continue;

    const n = Number(match[1]);
    if (n < 1 || n > MAX_TAGS) {
      throw new ApiError(400, 'InvalidTag.Malformed', `Tag.N takes N from 1 to ${MAX_TAGS}.`);
    }
    if (match[2] === 'Value' && params[`Tag.${n}.Key`] === undefined) {
      throw new ApiError(400, 'InvalidTag.Malformed', `Tag.${n}.Value has no Tag.${n}.Key.`);
    }
    if (match[2] === 'Key')
      filters.push({ key: params[name] ?? '', value: params[`Tag.${n}.Value`] });
  }
  return filters;
}

/** A tag filter without a value matches any value of that key. */
const hasTag = (instance: Instance, filter: TagFilter): boolean =>
  instance.Tags.some(
    (tag) => tag.Key === filter.key && (filter.value === undefined || tag.Value === filter.value),
  );

interface Page {
  number: number;
  size: number;
  offset: number;
}

interface PageRules {
  /** The only sizes accepted; undefined accepts 1..100. */
  sizes: string[] | undefined;
  defaultSize: number;
}

function pageOf(params: Params, rules: PageRules): Page {
  const number = positiveInteger('PageNumber', params.PageNumber ?? '1');
  const sizeText = params.PageSize ?? String(rules.defaultSize);
  const size = positiveInteger('PageSize', sizeText);

  const allowed = rules.sizes === undefined ? size <= 100 : rules.sizes.includes(sizeText);
  if (!allowed) {
    throw new ApiError(
      400,
      'InvalidPageSize.ValueNotSupport',
      `PageSize ${sizeText} is not supported; use ${rules.sizes?.join(', ') ?? '1 to 100'}.`,
    );
  }
  return { number, size, offset: (number - 1) * size };
}

function positiveInteger(name: string, text: string): number {
  if (!/^[1-9]\d{0,8}$/.test(text)) throw invalid(name, text);
  return Number(text);
}

/** yyyy-MM-ddTHH:mmZ, as DescribeBackups takes StartTime and EndTime. */
function parseMinutes(name: string, text: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z$/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms)) throw invalid(name, text);
  return ms;
}

/** yyyy-MM-ddTHH:mm:ssZ, as the vendor writes backup times. */
export function formatSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
