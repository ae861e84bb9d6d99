// Injected failures. Count faults answer the next N matching requests and then expire; a rate
// limit stays until the faults are replaced or cleared.

import type { FaultSpec } from './types';

type CountFault = Exclude<FaultSpec, { kind: 'rateLimit' }>;

const WINDOW_MS = 1000;

/** What the server should do with one request instead of (or besides) answering it. */
export type FaultDecision = CountFault | { kind: 'rateLimited' } | undefined;

export class FaultBook {
  private active: { fault: CountFault; left: number }[] = [];
  private perSecond: number | undefined;
  private admitted: number[] = [];

  constructor(private readonly now: () => number) {}

  set(faults: readonly FaultSpec[]): void {
    this.clear();
    for (const fault of faults) {
      if (fault.kind === 'rateLimit') this.perSecond = fault.perSecond;
      else if (fault.count > 0) this.active.push({ fault: { ...fault }, left: fault.count });
    }
  }

  clear(): void {
    this.active = [];
    this.perSecond = undefined;
    this.admitted = [];
  }

  list(): FaultSpec[] {
    const counted: FaultSpec[] = this.active.map(({ fault, left }) => ({ ...fault, count: left }));
    return this.perSecond === undefined
      ? counted
      : [...counted, { kind: 'rateLimit', perSecond: this.perSecond }];
  }

  /** Consumes the first fault that matches the action, in the order the faults were given. */
  decide(action: string): FaultDecision {
    const entry = this.active.find(
      ({ fault }) => fault.action === undefined || fault.action === action,
    );
    if (entry !== undefined) {
      entry.left -= 1;
      if (entry.left <= 0) this.active = this.active.filter((other) => other !== entry);
      return entry.fault;
    }

    return this.overRate() ? { kind: 'rateLimited' } : undefined;
  }

  /** Sliding one-second log of admitted requests; refused ones do not count against the caller. */
  private overRate(): boolean {
    if (this.perSecond === undefined) return false;

    const now = this.now();
    this.admitted = this.admitted.filter((at) => at > now - WINDOW_MS);
    if (this.admitted.length >= this.perSecond) return true;

    this.admitted.push(now);
    return false;
  }
}
