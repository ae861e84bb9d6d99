/**
 * Spaces out API calls once the API starts throttling. Until the first throttle, calls go out
 * as fast as the concurrency limit lets them. After it, the pacer learns a rate: it starts
 * just under what got through in the last second, backs off further on each throttle, and
 * creeps back up with every success (additive increase, multiplicative decrease).
 */
const WINDOW_MS = 1_000;
const BACKOFF_FACTOR = 0.85;
const INCREASE_PER_SUCCESS = 0.05;
const MIN_RATE = 1;

export class CallPacer {
  private rate = Number.POSITIVE_INFINITY;
  private nextSlotAt = 0;
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

  onThrottled(): void {
    const learned = Number.isFinite(this.rate)
      ? this.rate * BACKOFF_FACTOR
      : this.recentStarts.length * BACKOFF_FACTOR;
    this.rate = Math.max(MIN_RATE, learned);
  }

  onSuccess(): void {
    if (Number.isFinite(this.rate)) this.rate += INCREASE_PER_SUCCESS;
  }

  /** Calls per second the pacer allows now; Infinity until the API first throttles. */
  get currentRate(): number {
    return this.rate;
  }

  private remember(now: number): void {
    this.recentStarts.push(now);
    while ((this.recentStarts[0] ?? now) < now - WINDOW_MS) this.recentStarts.shift();
  }
}
