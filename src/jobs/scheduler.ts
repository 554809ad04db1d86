// Background jobs that must run once per period across every instance of the service. Each
// run first takes the job's lease in `job_leases` with one conditional write; the instance
// whose write lands runs the job, the others skip that period. main.ts starts the timers; tests
// call runOnce.
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/client.ts';
import { classifyDatabaseError } from '../db/errors.ts';

export interface Job {
  /** Unique, stable across releases: it names the lease. */
  name: string;
  everyMs: number;
  run: (now: Date) => Promise<void>;
}

export class Scheduler {
  private readonly jobs = new Map<string, Job>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<unknown>>();
  private started = false;

  constructor(
    private readonly prisma: Db,
    private readonly now: () => Date,
    private readonly log: FastifyBaseLogger,
    /** Identifies this instance in the lease table. */
    readonly holder: string = randomUUID(),
  ) {}

  register(job: Job): void {
    if (this.jobs.has(job.name)) throw new Error(`job "${job.name}" is registered already`);
    if (!(job.everyMs >= 1000)) throw new Error(`job "${job.name}" must run at most once a second`);
    this.jobs.set(job.name, job);
    if (this.started) this.schedule(job);
  }

  names(): string[] {
    return [...this.jobs.keys()];
  }

  /**
   * Takes the job's lease for one period. Either the row does not exist yet (the insert wins or
   * hits the primary key), or it exists and the update applies only while the lease is free.
   */
  async takeLease(name: string, everyMs: number, now: Date = this.now()): Promise<boolean> {
    const leasedUntil = new Date(now.getTime() + everyMs);
    const { count } = await this.prisma.jobLease.updateMany({
      where: { name, leasedUntil: { lte: now } },
      data: { holder: this.holder, leasedUntil, lastRunAt: now },
    });
    if (count === 1) return true;
    try {
      await this.prisma.jobLease.create({ data: { name, holder: this.holder, leasedUntil, lastRunAt: now } });
      return true;
    } catch (err) {
      if (classifyDatabaseError(err) === 'conflict') return false;
      throw err;
    }
  }

  /** Runs the job if this instance gets its lease for the period; true when it ran. */
  async runOnce(name: string, now: Date = this.now()): Promise<boolean> {
    const job = this.jobs.get(name);
    if (!job) throw new Error(`no job named "${name}"`);
    if (!(await this.takeLease(job.name, job.everyMs, now))) return false;
    const started = Date.now();
    await job.run(now);
    this.log.info({ job: job.name, ms: Date.now() - started }, 'job ran');
    return true;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    for (const job of this.jobs.values()) this.schedule(job);
  }

  /** Stops the timers and waits for runs in progress. */
  async stop(): Promise<void> {
    this.started = false;
    for (const timer of this.timers) clearInterval(timer);
    this.timers.clear();
    await Promise.allSettled([...this.running]);
  }

  private schedule(job: Job): void {
    const tick = () => {
      if (!this.started) return;
      const run = this.runOnce(job.name).catch((err: unknown) => {
        this.log.error({ job: job.name, err }, 'job failed');
      });
      this.running.add(run);
      void run.finally(() => this.running.delete(run));
    };
    // Check a few times per period, so that an instance notices soon when the holder is gone.
    const timer = setInterval(tick, Math.max(1000, Math.floor(job.everyMs / 4)));
    timer.unref();
    this.timers.add(timer);
    setImmediate(tick);
  }
}
