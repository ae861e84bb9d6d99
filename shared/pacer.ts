/**
 * Spaces out API calls once the API starts throttling. Until the first throttle, calls go out
 * as fast as the concurrency limit lets them. After it, the pacer learns a rate: it starts
 * just under what got through in the last second, backs off further on each throttle, and
 * creeps back up with every success (additive increase, multiplicative decrease).
 *
 * The API counts calls over a sliding one-second window, so two things follow. A throttle
 * means the window is full until its oldest call ages out: starting calls before then only
 * burns their attempts, so the pacer waits for that moment. And the calls already in flight
 * when the rate drops were started at the old rate: their throttles say nothing new, so the
 * rate is cut at most once per window. Cutting on each of them would drive the rate to a
 * fraction of the limit, which additive increase then takes the rest of the batch to regain.
 */
const WINDOW_MS = 1_000;
const BACKOFF_FACTOR = 0.9;
const INCREASE_PER_SUCCESS = 0.05;
const MIN_RATE = 1;

export class CallPacer {
  private rate = Number.POSITIVE_INFINITY;
  private nextSlotAt = 0;
  private lastCutAt = Number.NEGATIVE_INFINITY;
  private readonly recentStarts: number[] = [];

  /** Resolves when the next call may start. */
  async acquire(): Promise<void> {
    const now = Date.now();
    this.remember(now);
    if (!Number.isFinite(this.rate)) return;

    const slot = Math.max(now, this.nextSlotAt);
    this.nextSlotAt = slot + 1000 / this.rate;
    if (slot > now) await new Promise((resolve) => setTimeout(resolve, slot - now));
  }

  /** Returns the new rate when this throttle cut it, undefined when the window was cut already. */
  onThrottled(now: number = Date.now()): number | undefined {
    this.forgetBefore(now - WINDOW_MS);
    if (now - this.lastCutAt < WINDOW_MS) return undefined;

    this.lastCutAt = now;
    const learned = Number.isFinite(this.rate)
      ? this.rate * BACKOFF_FACTOR
      : this.recentStarts.length * BACKOFF_FACTOR;
    this.rate = Math.max(MIN_RATE, learned);

    const oldest = this.recentStarts[0];
    if (oldest !== undefined) this.nextSlotAt = Math.max(this.nextSlotAt, oldest + WINDOW_MS);
    return this.rate;
  }

  onSuccess(): void {
    if (Number.isFinite(this.rate)) this.rate += INCREASE_PER_SUCCESS;
  }

  private remember(now: number): void {
    this.recentStarts.push(now);
    this.forgetBefore(now - WINDOW_MS);
  }

  private forgetBefore(cutoff: number): void {
    while ((this.recentStarts[0] ?? cutoff) < cutoff) this.recentStarts.shift();
  }
}
