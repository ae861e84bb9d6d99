/**
 * The create-backup function: bytes in, recognise the trigger, parse, back up, answer.
 * Everything about DDS lives in shared/; this file only speaks Function Compute.
 */
import { runBackups, type TargetResult } from '../../shared/backup';
import { type Config, loadConfig } from '../../shared/config';
import { type CredentialSource, DdsApi, resolveEndpoint } from '../../shared/dds-api';
import { Deadline } from '../../shared/deadline';
import {
  asBackupError,
  type BackupError,
  type ErrorSummary,
  RequestError,
} from '../../shared/errors';
import { type LineWriter, Logger, writeToStdout } from '../../shared/logger';
import { Redactor } from '../../shared/redact';
import { type BackupRequest, parseBackupRequest } from '../../shared/request';
import {
  type HttpAnswer,
  httpAnswer,
  readHttpRequest,
  statusForCode,
  statusForResults,
} from './http';
import { decodeEvent, type RequestInput, recognise, type Trigger } from './triggers';

/** The parts of FC's context the function reads. Never logged whole: it holds the role's keys. */
export interface FcContext {
  requestId?: string;
  region?: string;
  credentials?: { accessKeyId?: string; accessKeySecret?: string; securityToken?: string };
  function?: { name?: string; timeout?: number };
}

export type Summary = 'OK' | 'PARTIAL' | 'FAILED';

export interface InvocationResult {
  requestId: string;
  trigger: Trigger | 'unknown';
  summary: Summary;
  results: TargetResult[];
  /** Set when the invocation as a whole was refused, before any target was tried. */
  error?: ErrorSummary;
}

export interface HandlerOptions {
  env?: Readonly<Record<string, string | undefined>>;
  writeLine?: LineWriter;
}

/** Thrown for async triggers so FC retries them; the dedupe window makes the retry safe. */
export class RetryableFailure extends Error {
  override readonly name = 'RetryableFailure';
}

export function createHandler(options: HandlerOptions = {}) {
  let config: Config | BackupError | undefined;
  let coldStart = true;

  return async function handler(event: unknown, context: FcContext = {}) {
    config ??= readConfig(options.env ?? process.env);
    const invocation = new Invocation(
      context,
      config,
      options.writeLine ?? writeToStdout,
      coldStart,
    );
    coldStart = false;
    return invocation.run(event);
  };
}

function readConfig(env: Readonly<Record<string, string | undefined>>): Config | BackupError {
  try {
    return loadConfig(env);
  } catch (error) {
    // Kept, not thrown: every invocation then answers with the variable to fix.
    return asBackupError(error);
  }
}

export const handler = createHandler();

class Invocation {
  private readonly started = Date.now();
  private readonly requestId: string;
  private readonly redactor = new Redactor();
  private trigger: Trigger | 'unknown' = 'unknown';
  private log: Logger;

  constructor(
    private readonly context: FcContext,
    private readonly config: Config | BackupError,
    writeLine: LineWriter,
    coldStart: boolean,
  ) {
    this.requestId = context.requestId ?? `local-${this.started}`;
    const known = config instanceof Error ? undefined : config;
    for (const secret of [
      ...(known?.webhookSecrets ?? []),
      ...Object.values(known?.credentials ?? {}),
      ...Object.values(context.credentials ?? {}),
    ]) {
      this.redactor.addSecret(secret);
    }

    const level = known?.logLevel ?? 'info';
    const functionName = context.function?.name ?? known?.functionName;
    this.log = new Logger(
      level,
      this.redactor,
      {
        requestId: this.requestId,
        functionName,
        coldStart,
      },
      writeLine,
    );
  }

  async run(event: unknown): Promise<InvocationResult | HttpAnswer> {
    let results: TargetResult[];
    try {
      results = await this.backUpFrom(event);
    } catch (caught) {
      const error = asBackupError(caught);
      const answer = this.refuse(error);
      // A tag selection the API could not answer leaves the whole run to FC's retry.
      if (this.retriedByFc() && error.retryable) {
        const reason = this.redactor.scrubString(`${error.code}: ${error.message}`);
        throw new RetryableFailure(`the invocation failed with ${reason}`);
      }
      return answer;
    }

    const answer = this.finish(results);
    // Only once the answer is logged: async triggers are retried by FC when the function throws.
    if (this.retriedByFc()) failForRetry(results);
    return answer;
  }

  /** Timers and cloud events invoke asynchronously: FC retries them when the function throws. */
  private retriedByFc(): boolean {
    return this.trigger !== 'http' && this.trigger !== 'direct' && this.trigger !== 'unknown';
  }

  private async backUpFrom(event: unknown): Promise<TargetResult[]> {
    const recognised = recognise(decodeEvent(event));
    this.trigger = recognised.trigger;
    this.log = this.log.child({ trigger: this.trigger });

    if (this.config instanceof Error) throw this.config;
    const inputs =
      recognised.trigger === 'http'
        ? [readHttpRequest(recognised.event, this.config, this.redactor)]
        : recognised.inputs;

    return this.backUp(inputs, this.config);
  }

  private async backUp(inputs: RequestInput[], config: Config): Promise<TargetResult[]> {
    const { requests, refused } = this.parseAll(inputs);
    const named = requests.reduce((sum, request) => sum + request.targets.length, 0);
    const selections = requests.filter((request) => request.selection).length;
    this.log.info('invocation received', {
      targets: named,
      selections,
      refusedInputs: refused.length,
    });

    const deadline = new Deadline(this.budgetMs(config), this.started);
    const defaultRegion = config.defaultRegion ?? this.context.region;
    const apis = new Map<string, DdsApi>();
    const credentials = this.credentials(config);
    const apiFor = (region: string) => {
      let api = apis.get(region);
      if (api === undefined) {
        api = new DdsApi(resolveEndpoint(region, config), region, credentials);
        apis.set(region, api);
      }
      return api;
    };

    const settled = await runBackups(requests, {
      config,
      logger: this.log,
      deadline,
      defaultRegion,
      apiFor,
    });
    return [...refused, ...settled];
  }

  /**
   * A batch event (an MNS queue delivers several messages) may mix good and bad messages:
   * the bad ones are reported as failed, the good ones still run. A single bad request is
   * refused whole.
   */
  private parseAll(inputs: RequestInput[]): { requests: BackupRequest[]; refused: TargetResult[] } {
    const requests: BackupRequest[] = [];
    const refused: TargetResult[] = [];

    for (const input of inputs) {
      try {
        if (input.body instanceof RequestError) throw input.body;
        requests.push(parseBackupRequest(input.body, input.implied));
      } catch (caught) {
        const error = asBackupError(caught);
        if (inputs.length === 1) throw error;
        refused.push(refusedInput(input, error));
        this.log.error('request refused', {
          source: input.source,
          errorCode: error.code,
          errorMessage: error.message,
        });
      }
    }
    return { requests, refused };
  }

  private budgetMs(config: Config): number {
    const timeoutSeconds = this.context.function?.timeout;
    const timeoutMs =
      timeoutSeconds !== undefined ? timeoutSeconds * 1000 : config.defaultTimeoutMs;
    return timeoutMs - config.deadlineMarginMs;
  }

  /** The role's keys from FC's context, else from the environment, else the local default chain. */
  private credentials(config: Config): CredentialSource {
    const { accessKeyId, accessKeySecret, securityToken } = this.context.credentials ?? {};
    if (!accessKeyId || !accessKeySecret) return config.credentials ?? 'default-chain';

    return securityToken
      ? { accessKeyId, accessKeySecret, securityToken }
      : { accessKeyId, accessKeySecret };
  }

  private finish(results: TargetResult[]): InvocationResult | HttpAnswer {
    const statusCode = this.trigger === 'http' ? statusForResults(results) : undefined;
    return this.answer({ summary: summarise(results), results }, statusCode);
  }

  private refuse(error: BackupError): InvocationResult | HttpAnswer {
    const statusCode = this.trigger === 'http' ? statusForCode(error.code) : undefined;
    this.log.error('invocation refused', {
      errorCode: error.code,
      errorMessage: error.message,
      statusCode,
    });
    return this.answer({ summary: 'FAILED', results: [], error: error.toSummary() }, statusCode);
  }

  /** The result, scrubbed of secrets and logged as the run summary, in the trigger's form. */
  private answer(
    outcome: Omit<InvocationResult, 'requestId' | 'trigger'>,
    statusCode: number | undefined,
  ): InvocationResult | HttpAnswer {
    const result = this.redactor.scrub({
      requestId: this.requestId,
      trigger: this.trigger,
      ...outcome,
    });
    this.logSummary(result, statusCode);

    return statusCode === undefined ? result : httpAnswer(statusCode, result);
  }

  private logSummary(result: InvocationResult, statusCode: number | undefined): void {
    const count = (status: TargetResult['status']) =>
      result.results.filter((target) => target.status === status).length;
    this.log.info('run summary', {
      summary: result.summary,
      statusCode,
      targets: result.results.length,
      created: count('created'),
      deduplicated: count('deduplicated'),
      dryRun: count('dry-run'),
      failed: count('failed'),
      errorCode: result.error?.code,
      durationMs: Date.now() - this.started,
    });
  }
}

/** Throws when a target failed in a way a later try may fix; the dedupe window makes it safe. */
function failForRetry(results: TargetResult[]): void {
  const retryable = results.filter((result) => result.error?.retryable);
  if (retryable.length === 0) return;

  const ids = retryable
    .slice(0, 10)
    .map((result) => result.DBInstanceId)
    .join(', ');
  throw new RetryableFailure(
    `${retryable.length} of ${results.length} targets failed with retryable errors (${ids})`,
  );
}

function summarise(results: readonly TargetResult[]): Summary {
  const failed = results.filter((result) => result.status === 'failed').length;
  if (failed === 0 && results.length > 0) return 'OK';
  return failed === results.length ? 'FAILED' : 'PARTIAL';
}

function refusedInput(input: RequestInput, error: BackupError): TargetResult {
  return {
    DBInstanceId: `(${input.source})`,
    status: 'failed',
    attempts: 0,
    durationMs: 0,
    error: { ...error.toSummary(), retryable: false },
  };
}
