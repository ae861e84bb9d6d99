/**
 * The core job: back up each target once, and give every target a final, reported state.
 * It knows nothing of Function Compute: the edge hands it a parsed request and a deadline.
 */
import pLimit from 'p-limit';
import type { Config } from './config';
import type { ApiQuery, ApiResponse, DdsCaller } from './dds-api';
import {
  describeBackupJobs,
  describeInstance,
  findRecentManualBackup,
  findTaggedInstances,
  type InstanceFacts,
  text,
} from './dds-queries';
import type { Deadline } from './deadline';
import {
  type ApiError,
  asBackupError,
  type BackupError,
  ErrorCode,
  type ErrorSummary,
  isThrottling,
  PreconditionError,
  RefusalError,
  RequestError,
} from './errors';
import type { Logger } from './logger';
import { CallPacer } from './pacer';
import {
  type BackupMethod,
  type BackupRequest,
  type BackupTarget,
  MAX_TARGETS,
  type TagSelection,
} from './request';
import { DEFAULT_RETRY_POLICY, type RetryPolicy, withRetries } from './retry';

export type TargetStatus = 'created' | 'deduplicated' | 'dry-run' | 'failed';

/** One target's final state. Absent fields are left undefined and vanish from the JSON. */
export interface TargetResult {
  DBInstanceId: string;
  /** The method sent to CreateBackup; absent for standalone instances, which take none. */
  BackupMethod?: BackupMethod | undefined;
  status: TargetStatus;
  BackupJobId?: string | undefined;
  BackupId?: string | undefined;
  /** The DDS API's RequestId of the call that settled this target. */
  RequestId?: string | undefined;
  /** Attempts of the call that settled the target: CreateBackup, or the look-up that failed. */
  attempts: number;
  durationMs: number;
  /** Why a target was deduplicated, or what a dry run would do. */
  detail?: string | undefined;
  error?: (ErrorSummary & { retryable: boolean }) | undefined;
}

type Settled = Omit<TargetResult, 'attempts' | 'durationMs'>;

export interface BackupDependencies {
  config: Config;
  logger: Logger;
  deadline: Deadline;
  /** The region of targets that name none: DDS_REGION, else the function's own region. */
  defaultRegion: string | undefined;
  /** The DDS API for a region; the edge decides credentials and endpoint. */
  apiFor(region: string): DdsCaller;
}

/** Already-running backup job: the API's own way of saying "this would be a duplicate". */
const JOB_EXISTS = 'OperationDenied.BackupJobExists';

/**
 * Backs up every target of the requests (a queue may deliver several at once) under one
 * concurrency limit and one pacer, so a batch of messages is no harder on the API than one.
 */
export async function runBackups(
  requests: readonly BackupRequest[],
  deps: BackupDependencies,
): Promise<TargetResult[]> {
  // Every region is resolved before the first call, so a request missing one makes none.
  const plans = requests.map((request) => planOf(request, deps.defaultRegion));
  const run = new TargetRun(deps, new CallPacer());

  const jobs: Job[] = [];
  for (const plan of plans) jobs.push(...plan.named, ...(await selectedJobs(plan, run)));
  if (jobs.length > MAX_TARGETS) {
    throw new RequestError(`targets: the event names ${jobs.length}; the limit is ${MAX_TARGETS}`);
  }

  const limit = pLimit(deps.config.maxConcurrency);
  return Promise.all(jobs.map((job) => limit(() => run.backUp(job))));
}

interface Job {
  target: BackupTarget;
  region: string;
  dryRun: boolean;
  /** What a tag selection's listing already said of the instance. */
  facts?: InstanceFacts;
}

/** A request's named targets as jobs, and its tag selection still to be listed. */
interface Plan {
  named: Job[];
  selection?: TagSelection & { region: string; dryRun: boolean };
}

function planOf(request: BackupRequest, defaultRegion: string | undefined): Plan {
  const { dryRun, selection } = request;
  const named = request.targets.map((target) => ({
    target,
    region: regionOf(target.RegionId, defaultRegion, target.DBInstanceId),
    dryRun,
  }));
  if (selection === undefined) return { named };

  const region = regionOf(selection.template.RegionId, defaultRegion, 'the tag selection');
  return { named, selection: { ...selection, region, dryRun } };
}

async function selectedJobs({ selection }: Plan, run: TargetRun): Promise<Job[]> {
  if (selection === undefined) return [];

  const { template, region, dryRun } = selection;
  const instances = await run.select(selection.tags, region);
  return instances.map((facts) => ({
    target: { ...template, DBInstanceId: facts.DBInstanceId, RegionId: region },
    region,
    dryRun,
    facts,
  }));
}

function regionOf(given: string | undefined, fallback: string | undefined, what: string): string {
  const region = given ?? fallback;
  if (region === undefined) {
    throw new RequestError(
      `RegionId: ${what} names none, and neither DDS_REGION nor FC_REGION is set`,
    );
  }
  return region;
}

/** What one target's work is allowed to see; settles the target whatever happens. */
class TargetRun {
  private readonly policy: RetryPolicy;

  constructor(
    private readonly deps: BackupDependencies,
    private readonly pacer: CallPacer,
  ) {
    this.policy = { ...DEFAULT_RETRY_POLICY, maxAttempts: deps.config.maxAttempts };
  }

  async backUp(job: Job): Promise<TargetResult> {
    const { target } = job;
    const started = Date.now();
    const tally = { attempts: 0 };
    const log = this.deps.logger.child({ DBInstanceId: target.DBInstanceId });

    let result: Settled;
    try {
      result = await this.settle(job, tally, log);
    } catch (caught) {
      result = failed(target, asBackupError(caught));
    }

    const finished: TargetResult = {
      ...result,
      attempts: tally.attempts,
      durationMs: Date.now() - started,
    };
    logOutcome(log, finished);
    return finished;
  }

  /** The instances a tag selection names, logged so the run shows what the tags matched. */
  async select(tags: TagSelection['tags'], region: string): Promise<InstanceFacts[]> {
    const log = this.deps.logger.child({ tags, RegionId: region });
    const call = this.caller(region, { attempts: 0 }, log);
    const instances = await findTaggedInstances(call, region, tags);
    log.info('tags selected instances', { targets: instances.length });
    return instances;
  }

  private async settle(job: Job, tally: { attempts: number }, log: Logger): Promise<Settled> {
    const { target, region, dryRun } = job;
    const allowed = this.deps.config.allowedInstanceIds;
    if (allowed !== undefined && !allowed.has(target.DBInstanceId)) {
      throw new RefusalError(
        ErrorCode.NotAllowed,
        `${target.DBInstanceId} is not in ALLOWED_INSTANCE_IDS`,
      );
    }

    const call = this.caller(region, tally, log);
    const method =
      target.BackupMethod ?? chooseMethod(job.facts ?? (await describeInstance(call, target)));
    const recent = await findRecentManualBackup(call, target, method, this.deps.config);
    const outcome = { DBInstanceId: target.DBInstanceId, BackupMethod: method };
    if (dryRun) {
      // A real run learns of a running job from CreateBackup itself; a dry run has to ask.
      const found = recent ?? (await describeBackupJobs(call, target));
      const plan = found ? `would be deduplicated: ${found.detail}` : 'would call CreateBackup';
      return { ...outcome, ...found, status: 'dry-run', detail: `${plan}; nothing was created` };
    }
    if (recent !== undefined) return { ...outcome, status: 'deduplicated', ...recent };

    return this.create(call, target, method);
  }

  private async create(
    call: Caller,
    target: BackupTarget,
    method: BackupMethod | undefined,
  ): Promise<Settled> {
    const query: ApiQuery = { DBInstanceId: target.DBInstanceId };
    if (method !== undefined) query.BackupMethod = method;
    if (target.BackupRetentionPeriod !== undefined) {
      query.BackupRetentionPeriod = target.BackupRetentionPeriod;
    }
    try {
      const response = await call('CreateBackup', query);
      return {
        DBInstanceId: target.DBInstanceId,
        BackupMethod: method,
        status: 'created',
        BackupJobId: text(response.BackupJobId),
        BackupId: text(response.BackupId),
        RequestId: text(response.RequestId),
      };
    } catch (caught) {
      const error = caught as BackupError;
      if (error.code !== JOB_EXISTS) throw error;

      // The job that is running already may be ours from an attempt whose answer was lost.
      const running = await describeBackupJobs(call, target).catch(() => undefined);
      return {
        DBInstanceId: target.DBInstanceId,
        BackupMethod: method,
        status: 'deduplicated',
        ...running,
        RequestId: (error as ApiError).apiRequestId,
        detail: running?.detail ?? 'a backup job is already running on this instance',
      };
    }
  }

  /** An API caller for one target: paced, retried, timed out, and logged attempt by attempt. */
  private caller(region: string, tally: { attempts: number }, log: Logger): Caller {
    const api = this.deps.apiFor(region);
    const { deadline } = this.deps;
    const timeoutCap = this.deps.config.apiTimeoutMs;

    return async (action, query) => {
      const outcome = await withRetries(
        async (timeLeftMs) => {
          await this.pacer.acquire();
          return api.call(action, query, Math.min(timeoutCap, timeLeftMs));
        },
        this.policy,
        deadline,
        (report) => {
          tally.attempts = report.attempt;
          this.observe(report.error, log);
          logAttempt(log, action, report.attempt, report.durationMs, report.error);
        },
      );
      if (!outcome.ok) throw outcome.error;
      return outcome.value;
    };
  }

  private observe(error: BackupError | undefined, log: Logger): void {
    if (error === undefined) {
      this.pacer.onSuccess();
      return;
    }
    if (!isThrottling(error)) return;

    const rate = this.pacer.onThrottled();
    if (rate === undefined) return;
    log.info('api throttled: pacing calls', { callsPerSecond: Math.round(rate) });
  }
}

export type Caller = (action: string, query: ApiQuery) => Promise<ApiResponse>;

/**
 * The method an instance accepts when the caller named none: snapshots on cloud disks,
 * physical on local disks, and nothing at all for a standalone instance (it only snapshots,
 * and refuses any BackupMethod parameter).
 */
export function chooseMethod(instance: InstanceFacts): BackupMethod | undefined {
  if (instance.DBInstanceStatus !== 'Running') {
    throw new PreconditionError(
      ErrorCode.InstanceNotRunning,
      `${instance.DBInstanceId} is ${instance.DBInstanceStatus}; a backup needs it Running`,
    );
  }
  if (instance.LockMode !== undefined && instance.LockMode !== 'Unlock') {
    throw new PreconditionError(
      ErrorCode.InstanceLocked,
      `${instance.DBInstanceId} is locked (${instance.LockMode}); unlock it to back it up`,
    );
  }
  if (instance.ReplicationFactor === '1') return undefined;
  return instance.StorageType?.startsWith('cloud') ? 'Snapshot' : 'Physical';
}

function failed(target: BackupTarget, error: BackupError): Settled {
  return {
    DBInstanceId: target.DBInstanceId,
    BackupMethod: target.BackupMethod,
    status: 'failed',
    RequestId: (error as Partial<ApiError>).apiRequestId,
    error: { code: error.code, message: error.message, retryable: error.retryable },
  };
}

function logAttempt(
  log: Logger,
  action: string,
  attempt: number,
  durationMs: number,
  error: BackupError | undefined,
): void {
  const fields = { action, attempt, durationMs };
  if (error === undefined) {
    // A first-try success is the common case; a success after retries is worth seeing.
    if (attempt === 1) log.debug('api call succeeded', fields);
    else log.info('api call succeeded after retrying', fields);
    return;
  }
  log.warn('api call failed', {
    ...fields,
    errorCode: error.code,
    errorMessage: error.message,
    retryable: error.retryable,
    apiRequestId: (error as Partial<ApiError>).apiRequestId,
  });
}

function logOutcome(log: Logger, result: TargetResult): void {
  const fields = {
    BackupMethod: result.BackupMethod,
    status: result.status,
    BackupJobId: result.BackupJobId,
    BackupId: result.BackupId,
    apiRequestId: result.RequestId,
    attempt: result.attempts,
    durationMs: result.durationMs,
    errorCode: result.error?.code,
    errorMessage: result.error?.message,
    detail: result.detail,
  };
  if (result.status === 'failed') log.error('target failed', fields);
  else log.info(`target ${result.status}`, fields);
}
