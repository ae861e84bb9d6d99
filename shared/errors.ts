/**
 * Every failure dds-backup reports has a stable code that SREs can alert on and a short
 * message a person can act on. Upstream codes from the DDS API are passed through unchanged
 * (InvalidDBInstanceId.NotFound, Throttling.User, …); the codes below are our own.
 */
export const ErrorCode = {
  InvalidRequest: 'InvalidRequest',
  ConfigInvalid: 'ConfigInvalid',
  Unauthenticated: 'Unauthenticated',
  NotAllowed: 'NotAllowed',
  PayloadTooLarge: 'PayloadTooLarge',
  NoInstanceSelected: 'NoInstanceSelected',
  InstanceNotRunning: 'InstanceNotRunning',
  InstanceLocked: 'InstanceLocked',
  MethodNotSupported: 'MethodNotSupported',
  DeadlineExceeded: 'DeadlineExceeded',
  UpstreamUnavailable: 'UpstreamUnavailable',
  UpstreamError: 'UpstreamError',
  Unexpected: 'Unexpected',
} as const;

/** Flow control, under any of its codes (Throttling, Throttling.User, Throttling.Api). */
export const isThrottling = (error: { code: string }): boolean => /Throttling/.test(error.code);

/** What a caller sees of any failure: a code and a short message, never a stack or a secret. */
export interface ErrorSummary {
  code: string;
  message: string;
}

export abstract class BackupError extends Error {
  abstract override readonly name: string;
  abstract readonly code: string;

  /** True when trying the same call again later may succeed. */
  readonly retryable: boolean = false;

  toSummary(): ErrorSummary {
    return { code: this.code, message: this.message };
  }
}

/** The configuration (environment variables) is wrong; `variable` names the culprit. */
export class ConfigError extends BackupError {
  override readonly name = 'ConfigError';
  readonly code = ErrorCode.ConfigInvalid;

  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable} ${problem}`);
  }
}

/** The caller's request is malformed; the message starts with the offending field. */
export class RequestError extends BackupError {
  override readonly name = 'RequestError';

  constructor(
    message: string,
    readonly code: string = ErrorCode.InvalidRequest,
  ) {
    super(message);
  }
}

/** A refusal of the caller: not authenticated, not allowed, or a body too large. */
export class RefusalError extends BackupError {
  override readonly name = 'RefusalError';

  constructor(
    readonly code:
      | typeof ErrorCode.Unauthenticated
      | typeof ErrorCode.NotAllowed
      | typeof ErrorCode.PayloadTooLarge,
    message: string,
  ) {
    super(message);
  }
}

/** The instance cannot take the backup as asked, found out before calling CreateBackup. */
export class PreconditionError extends BackupError {
  override readonly name = 'PreconditionError';

  constructor(
    readonly code:
      | typeof ErrorCode.InstanceNotRunning
      | typeof ErrorCode.InstanceLocked
      | typeof ErrorCode.MethodNotSupported,
    message: string,
  ) {
    super(message);
  }
}

/** The invocation ran out of time; a later invocation (FC's async retry) may finish the work. */
export class DeadlineError extends BackupError {
  override readonly name = 'DeadlineError';
  readonly code = ErrorCode.DeadlineExceeded;
  override readonly retryable = true;
}

/**
 * A failed DDS API call, reduced to what is safe to keep. The client's own error objects carry
 * the signed request (keys, token, signature), so they are never kept as `cause`.
 */
export class ApiError extends BackupError {
  override readonly name = 'ApiError';
  override readonly retryable: boolean;

  constructor(
    readonly code: string,
    message: string,
    readonly httpStatus: number | undefined,
    readonly apiRequestId: string | undefined,
    retryable: boolean,
  ) {
    super(message);
    this.retryable = retryable;
  }
}

/** A bug of ours, not a problem with the request or the API; its details stay in the logs. */
export class UnexpectedError extends BackupError {
  override readonly name = 'UnexpectedError';
  readonly code = ErrorCode.Unexpected;
}

export function asBackupError(caught: unknown): BackupError {
  if (caught instanceof BackupError) return caught;
  return new UnexpectedError('an unexpected error stopped this target', { cause: caught });
}
