// Reconnect delays: exponential with jitter, so that many clients dropped
// at once (a restart) do not all come back in the same instant.

/** How the delay grows. */
export interface BackoffOptions {
  /** The first delay's ceiling, in ms. */
  baseMs: number;
  /** The largest delay, in ms. */
  maxMs: number;
  /** How much each failed attempt multiplies the ceiling by. */
  factor: number;
}

/** Default: 0.5 s, doubling, at most 30 s. */
export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 30_000, factor: 2 };

/** Delays for successive reconnect attempts; reset once connected. */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly options: BackoffOptions = DEFAULT_BACKOFF,
    private readonly random: () => number = Math.random,
  ) {}

  /** How many delays were handed out since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /** The ceiling of the next delay, before jitter. */
  ceiling(): number {
    const { baseMs, maxMs, factor } = this.options;
    return Math.min(maxMs, baseMs * factor ** this.attempt);
  }

  /** The next delay: between half the ceiling and the ceiling ("equal jitter"). */
  next(): number {
    const ceiling = this.ceiling();
    this.attempt += 1;
    return Math.round(ceiling / 2 + this.random() * (ceiling / 2));
  }

  /** Connected: the next failure starts from the base again. */
  reset(): void {
    this.attempt = 0;
  }
}
