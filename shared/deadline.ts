/**
 * The time an invocation may still spend. FC kills a function at its timeout without a word,
 * so every call and every wait is cut to fit, and the answer is written before that moment.
 */
export class Deadline {
  private readonly endsAt: number;

  constructor(budgetMs: number, now: number = Date.now()) {
    this.endsAt = now + Math.max(0, budgetMs);
  }

  remainingMs(now: number = Date.now()): number {
    return Math.max(0, this.endsAt - now);
  }
}

/** Resolves after `ms`, or at once when the deadline leaves less time than that. */
export function sleepWithin(ms: number, deadline: Deadline): Promise<void> {
  const wait = Math.min(ms, deadline.remainingMs());
  return new Promise((resolve) => setTimeout(resolve, wait));
}
