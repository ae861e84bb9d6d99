// Instances, backup jobs and the rules CreateBackup enforces. Job progress is derived from the
// clock on every read, so no timers run and a fake clock moves jobs forward.

import { ApiError } from './errors';
import type { CreatedBackup, InstanceSeed } from './types';

export const JobStatus = {
  Scheduled: 'Scheduled',
  Checking: 'Checking',
  Backuping: 'Backuping',
  Finished: 'Finished',
} as const;
export type JobStatus = (typeof JobStatus)[keyof typeof JobStatus];

/** Share of the job's duration at which each phase ends. */
const PHASE_ENDS = [
  [0.1, JobStatus.Scheduled],
  [0.25, JobStatus.Checking],
  [1, JobStatus.Backuping],
] as const;

export interface Instance {
  DBInstanceId: string;
  RegionId: string;
  DBInstanceStatus: string;
  DBInstanceType: 'replicate' | 'sharding';
  ReplicationFactor: string;
  StorageType: string;
  LockMode: string;
  EngineVersion: string;
  Tags: { Key: string; Value: string }[];
  HasDatabase: boolean;
}

export interface BackupJob extends CreatedBackup {
  retentionDays: number | undefined;
  sizeBytes: number;
}

export interface JobView {
  job: BackupJob;
  status: JobStatus;
  /** 0..100 */
  progress: number;
  finishedAt: number;
}

export interface CreateBackupInput {
  DBInstanceId: string;
  BackupMethod: string | undefined;
  BackupRetentionPeriod: string | undefined;
}

export interface StateOptions {
  jobDurationMs: number;
  now: () => number;
  /** Told of every job CreateBackup starts, for the emulator's `created` list. */
  onCreated: (job: BackupJob) => void;
}

const FIRST_JOB_ID = 775051;
const FIRST_BACKUP_ID = 5664000001;

export function toInstance(seed: InstanceSeed): Instance {
  return {
    DBInstanceId: seed.DBInstanceId,
    RegionId: seed.RegionId ?? 'cn-hangzhou',
    DBInstanceStatus: seed.DBInstanceStatus ?? 'Running',
    DBInstanceType: seed.DBInstanceType ?? 'replicate',
    ReplicationFactor: seed.ReplicationFactor ?? (seed.DBInstanceType === 'sharding' ? '' : '3'),
    StorageType: seed.StorageType ?? 'cloud_essd1',
    LockMode: seed.LockMode ?? 'Unlock',
    EngineVersion: seed.EngineVersion ?? '6.0',
    Tags: seed.Tags?.map((tag) => ({ ...tag })) ?? [],
    HasDatabase: seed.HasDatabase ?? true,
  };
}

export const isCloudDisk = (instance: Instance): boolean =>
  instance.StorageType.startsWith('cloud_');

export const isStandalone = (instance: Instance): boolean =>
  instance.DBInstanceType === 'replicate' && instance.ReplicationFactor === '1';

export class DdsState {
  readonly instances = new Map<string, Instance>();
  readonly jobs: BackupJob[] = [];
  private nextJobId = FIRST_JOB_ID;
  private nextBackupId = FIRST_BACKUP_ID;

  constructor(
    seeds: readonly InstanceSeed[],
    private readonly options: StateOptions,
  ) {
    for (const seed of seeds) this.instances.set(seed.DBInstanceId, toInstance(seed));
  }

  instance(id: string): Instance {
    const instance = this.instances.get(id);
    if (instance === undefined) {
      throw new ApiError(404, 'InvalidDBInstanceId.NotFound', `The instance ${id} does not exist.`);
    }
    return instance;
  }

  createBackup(input: CreateBackupInput): BackupJob {
    const instance = this.instance(input.DBInstanceId);

    const method = chooseMethod(instance, input.BackupMethod);
    const retentionDays = checkRetention(instance, input.BackupRetentionPeriod);
    checkCanBackUp(instance);
    if (this.views(instance.DBInstanceId).some((view) => view.status !== JobStatus.Finished)) {
      throw new ApiError(
        403,
        'OperationDenied.BackupJobExists',
        'A backup job is already running on this instance.',
      );
    }

    const job = this.startJob(instance, method, retentionDays);
    this.jobs.push(job);
    this.options.onCreated(job);
    return job;
  }

  /** Jobs of one instance with their phase at the current clock. */
  views(instanceId: string): JobView[] {
    return this.jobs.filter((job) => job.DBInstanceId === instanceId).map((job) => this.view(job));
  }

  private view(job: BackupJob): JobView {
    const { jobDurationMs, now } = this.options;
    const elapsed = now() - job.createdAt;
    const share = jobDurationMs <= 0 ? 1 : elapsed / jobDurationMs;
    const phase = PHASE_ENDS.find(([end]) => share < end);

    return {
      job,
      status: phase?.[1] ?? JobStatus.Finished,
      progress: Math.max(0, Math.min(100, Math.floor(share * 100))),
      finishedAt: job.createdAt + jobDurationMs,
    };
  }

  private startJob(instance: Instance, method: string, retentionDays?: number): BackupJob {
    const jobId = this.nextJobId++;
    return {
      DBInstanceId: instance.DBInstanceId,
      BackupJobId: String(jobId),
      BackupId: String(this.nextBackupId++),
      BackupMethod: method,
      createdAt: this.options.now(),
      retentionDays,
      // Deterministic but varied sizes, so listings do not all look alike.
      sizeBytes: (200 + (jobId % 97) * 13) * 1024 * 1024,
    };
  }
}

function chooseMethod(instance: Instance, requested: string | undefined): string {
  if (isStandalone(instance)) {
    // A standalone instance takes snapshots only and refuses the parameter altogether.
    if (requested !== undefined) throw methodNotSupported(requested, 'a standalone instance');
    return 'Snapshot';
  }

  if (isCloudDisk(instance)) {
    if (requested !== undefined && requested !== 'Snapshot') {
      throw methodNotSupported(requested, 'a cloud-disk instance');
    }
    return 'Snapshot';
  }

  if (requested === undefined) return 'Physical';
  if (requested !== 'Physical' && requested !== 'Logical') {
    throw methodNotSupported(requested, 'a local-disk instance');
  }
  return requested;
}

function methodNotSupported(method: string, what: string): ApiError {
  return new ApiError(
    400,
    'InvalidBackupMethod.ValueNotSupport',
    `The backup method "${method}" is not supported by ${what}.`,
  );
}

function checkRetention(instance: Instance, given: string | undefined): number | undefined {
  if (given === undefined) return undefined;

  const days = /^-?\d+$/.test(given) ? Number(given) : Number.NaN;
  if (days !== -1 && !(days >= 7 && days <= 730)) {
    throw new ApiError(
      400,
      'InvalidBackupRetentionPeriod.ValueNotSupport',
      `BackupRetentionPeriod must be -1 or an integer from 7 to 730, not "${given}".`,
    );
  }

  if (!isCloudDisk(instance) || isStandalone(instance)) {
    throw new ApiError(
      400,
      'InvalidBackupRetentionPeriod.InstanceNotSupport',
      'BackupRetentionPeriod applies to cloud-disk replica sets and sharded clusters only.',
    );
  }
  return days;
}

function checkCanBackUp(instance: Instance): void {
  if (instance.DBInstanceStatus !== 'Running') {
    throw new ApiError(
      403,
      'OperationDenied.DBInstanceStatus',
      `The instance is ${instance.DBInstanceStatus}; backups need it Running.`,
    );
  }
  if (instance.LockMode !== 'Unlock') {
    throw new ApiError(
      403,
      'IncorrectDBInstanceLockMode',
      `The instance is locked (${instance.LockMode}); backups need it unlocked.`,
    );
  }
  if (!instance.HasDatabase) {
    throw new ApiError(403, 'OperationDenied.NoDatabase', 'The instance holds no database.');
  }
}
