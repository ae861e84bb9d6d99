// The retry budget, the backoff and the pacer on their own, with no network: the rules the
// fault matrix relies on, stated one by one.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Deadline } from '../shared/deadline';
import { ApiError, type BackupError } from '../shared/errors';
import { CallPacer } from '../shared/pacer';
import { backoffMs, type RetryPolicy, THROTTLE_ATTEMPT_FACTOR, withRetries } from '../shared/retry';

const POLICY: RetryPolicy = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 4 };

const apiError = (code: string, retryable: boolean) =>
  new ApiError(code, `${code} happened`, 500, 'REQ-1', retryable);

/** An operation that fails with each error in turn, then succeeds. */
function failingWith(errors: BackupError[]) {
  let calls = 0;
  const operation = async () => {
    const error = errors[calls++];
    if (error) throw error;
    return 'done';
  };
  return { operation, calls: () => calls };
}

describe('backoff', () => {
  it('waits between zero and a cap that doubles per attempt up to the maximum', () => {
    const policy = { maxAttempts: 10, baseDelayMs: 200, maxDelayMs: 5_000 };

    const caps = [1, 2, 3, 4, 5, 6].map((attempt) => backoffMs(attempt, policy, () => 0.999_999));
    const floors = [1, 2, 3].map((attempt) => backoffMs(attempt, policy, () => 0));

    expect(caps).toEqual([199, 399, 799, 1599, 3199, 4999]);
    expect(floors).toEqual([0, 0, 0]);
  });
});

describe('withRetries', () => {
  it('retries retryable errors and reports every attempt', async () => {
    const { operation } = failingWith([apiError('ServiceUnavailable', true)]);
    const reports: Array<string | undefined> = [];

    const outcome = await withRetries(operation, POLICY, new Deadline(10_000), (report) =>
      reports.push(report.error?.code),
    );

    expect(outcome).toEqual({ ok: true, value: 'done', attempts: 2 });
    expect(reports).toEqual(['ServiceUnavailable', undefined]);
  });

  it('stops at once on an error that cannot succeed', async () => {
    const { operation, calls } = failingWith([apiError('InvalidDBInstanceId.NotFound', false)]);

    const outcome = await withRetries(operation, POLICY, new Deadline(10_000), () => {});

    expect(outcome).toMatchObject({ ok: false, attempts: 1 });
    expect(calls()).toBe(1);
  });

  it('gives up after maxAttempts errors', async () => {
    const { operation, calls } = failingWith(Array(10).fill(apiError('InternalError', true)));

    const outcome = await withRetries(operation, POLICY, new Deadline(10_000), () => {});

    expect(outcome).toMatchObject({ ok: false, attempts: 3, error: { code: 'InternalError' } });
    expect(calls()).toBe(3);
  });

  it('gives throttled answers a larger budget than errors', async () => {
    const throttles = Array(20).fill(apiError('Throttling.User', true));
    const { operation, calls } = failingWith(throttles);

    const outcome = await withRetries(operation, POLICY, new Deadline(10_000), () => {});

    expect(outcome).toMatchObject({ ok: false, error: { code: 'Throttling.User' } });
    expect(calls()).toBe(POLICY.maxAttempts * THROTTLE_ATTEMPT_FACTOR);
  });

  it('reports DeadlineExceeded instead of starting a call it has no time for', async () => {
    const { operation, calls } = failingWith([]);

    const outcome = await withRetries(operation, POLICY, new Deadline(100), () => {});

    expect(outcome).toMatchObject({ ok: false, attempts: 0, error: { code: 'DeadlineExceeded' } });
    expect(calls()).toBe(0);
  });
});

describe('CallPacer', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  /** When each of `count` acquisitions resolves, in fake milliseconds from now. */
  async function slots(pacer: CallPacer, count: number): Promise<number[]> {
    const started = Date.now();
    const times: number[] = [];
    const all = Array.from({ length: count }, () =>
      pacer.acquire().then(() => times.push(Date.now() - started)),
    );
    await vi.runAllTimersAsync();
    await Promise.all(all);
    return times;
  }

  it('lets calls through unpaced until the first throttle', async () => {
    const pacer = new CallPacer();

    expect(await slots(pacer, 100)).toEqual(Array(100).fill(0));
  });

  it('learns a rate just under what got through, and cuts it once per window', async () => {
    const pacer = new CallPacer();
    await slots(pacer, 20);
    const now = Date.now();

    const first = pacer.onThrottled(now);
    const again = pacer.onThrottled(now + 10);
    const nextWindow = pacer.onThrottled(now + 1_001);

    expect(first).toBeCloseTo(18);
    expect(again).toBeUndefined();
    expect(nextWindow).toBeCloseTo(16.2);
  });

  it('waits for the window to clear, then spaces calls at the learned rate', async () => {
    const pacer = new CallPacer();
    await slots(pacer, 10);
    pacer.onThrottled();

    // Nine calls a second, once the ten calls of the full window have aged out.
    const times = await slots(pacer, 4);

    expect(times.map(Math.round)).toEqual([1000, 1111, 1222, 1333]);
  });
});
