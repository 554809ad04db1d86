// Verifications at once are bounded: each holds fetched documents in memory and waits on
// issuers, so an unbounded number of them (a burst of requests, slow issuers) would exhaust
// the heap. Requests beyond the bound wait in a short line for a little while; when the line
// is full or the wait runs out they get a 503 and retry, and the process stays up.
import { Problem } from '../../http/problems.ts';

export interface GateOptions {
  /** Verifications running at once. */
  concurrency: number;
  /** Requests that may wait for a turn; more are refused at once. */
  queueLength: number;
  /** How long a request waits for its turn before it is refused. */
  maxWaitMs: number;
}

interface Waiter {
  start: () => void;
  timer: NodeJS.Timeout | undefined;
}

function busy(): Problem {
  return new Problem(
    'verification_busy',
    'Too many badges are being verified right now; retry in a few seconds.',
    {},
    { 'retry-after': '5' },
  );
}

export class VerificationGate {
  private active = 0;
  private readonly waiting: Waiter[] = [];

  constructor(private readonly options: GateOptions) {}

  /**
   * Runs `task` when a turn is free. `patient` callers (the background job) wait as long as it
   * takes and are never refused; they still take one turn, so requests keep the others.
   */
  async run<T>(task: () => Promise<T>, patient = false): Promise<T> {
    await this.acquire(patient);
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private acquire(patient: boolean): Promise<void> {
    if (this.active < this.options.concurrency) {
      this.active += 1;
      return Promise.resolve();
    }
    if (!patient && this.waiting.length >= this.options.queueLength) return Promise.reject(busy());
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        start: () => {
          clearTimeout(waiter.timer);
          resolve();
        },
        timer: patient
          ? undefined
          : setTimeout(() => {
              const at = this.waiting.indexOf(waiter);
              if (at >= 0) this.waiting.splice(at, 1);
              reject(busy());
            }, this.options.maxWaitMs),
      };
      this.waiting.push(waiter);
    });
  }

  private release(): void {
    const next = this.waiting.shift();
    // The turn passes straight to the next in line, so `active` stays as it is.
    if (next) next.start();
    else this.active -= 1;
  }
}
