/**
 * Retries owned by dds-backup: the vendor's client never retries. Backoff is exponential with
 * full jitter, so many targets throttled at once do not come back in lockstep.
 */
import { type Deadline, sleepWithin } from './deadline';
import { type BackupError, DeadlineError, isThrottling } from './errors';

export interface RetryPolicy {
  /** Attempts a call gets against errors (5xx, resets, timeouts). */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * Throttled answers get this many times maxAttempts. A throttle says "not now" rather than
 * "broken", and the pacer slows every call down in answer to it; with the same small budget
 * as errors, a large batch would lose targets in the first second of a rate limit. The
 * invocation deadline still bounds the whole.
 */
export const THROTTLE_ATTEMPT_FACTOR = 3;

export const DEFAULT_RETRY_POLICY: Omit<RetryPolicy, 'maxAttempts'> = {
  baseDelayMs: 200,
  maxDelayMs: 5_000,
};

/** The smallest slice of time worth starting an API call in. */
export const MIN_CALL_MS = 250;

export interface AttemptReport {
  attempt: number;
  durationMs: number;
  error?: BackupError;
}

/** Full jitter: a random wait between zero and the exponential cap for this attempt. */
export function backoffMs(attempt: number, policy: RetryPolicy, random = Math.random): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * cap);
}

export type RetryOutcome<T> =
  | { ok: true; value: T; attempts: number }
  | { ok: false; error: BackupError; attempts: number };

/**
 * Runs `operation` until it succeeds, fails for good, runs out of attempts, or the deadline
 * leaves too little time for another try. `operation` receives the time it may take and must
 * throw only BackupError values, so each failure can say whether it is worth retrying.
 */
export async function withRetries<T>(
  operation: (timeLeftMs: number) => Promise<T>,
  policy: RetryPolicy,
  deadline: Deadline,
  onAttempt: (report: AttemptReport) => void,
): Promise<RetryOutcome<T>> {
  let lastError: BackupError | undefined;
  let errors = 0;
  let throttles = 0;

  for (let attempt = 1; ; attempt++) {
    if (deadline.remainingMs() < MIN_CALL_MS) {
      const error = new DeadlineError(
        lastError === undefined
          ? 'the invocation ran out of time before this target was started'
          : `the invocation ran out of time while retrying after ${lastError.code}`,
      );
      return { ok: false, error, attempts: attempt - 1 };
    }

    const started = Date.now();
    try {
      const value = await operation(deadline.remainingMs());
      onAttempt({ attempt, durationMs: Date.now() - started });
      return { ok: true, value, attempts: attempt };
    } catch (caught) {
      lastError = caught as BackupError;
      onAttempt({ attempt, durationMs: Date.now() - started, error: lastError });

      if (isThrottling(lastError)) throttles++;
      else errors++;
      const spent =
        errors >= policy.maxAttempts || throttles >= policy.maxAttempts * THROTTLE_ATTEMPT_FACTOR;
      if (!lastError.retryable || spent) return { ok: false, error: lastError, attempts: attempt };

      await sleepWithin(backoffMs(attempt, policy), deadline);
    }
  }
}
