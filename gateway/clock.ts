/**
 * The one clock. Everything that stamps a time (audit records, session events, approval expiry,
 * pin dates) takes a `Clock` so tests can drive time explicitly instead of sleeping; production
 * code passes `systemClock`.
 */

/** A source of the current time. */
export interface Clock {
  now(): Date;
}

/** The wall clock of this machine. */
export const systemClock: Clock = {
  now: () => new Date(),
};

let lastMs = Number.NaN;
let lastIso = "";

/**
 * `clock.now().toISOString()`. The system clock's text is made once per millisecond and reused
 * (a call stamps its policy input, two audit records and its session events within one or two).
 */
export function isoNow(clock: Clock): string {
  if (clock !== systemClock) return clock.now().toISOString();
  const ms = Date.now();
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}

/** A clock that only moves when told to; for tests and deterministic replays. */
export class ManualClock implements Clock {
  private ms: number;

  constructor(start: Date | string | number = "2026-01-01T00:00:00.000Z") {
    this.ms = new Date(start).getTime();
    if (Number.isNaN(this.ms)) throw new RangeError(`invalid start time: ${String(start)}`);
  }

  now(): Date {
    return new Date(this.ms);
  }

  /** Moves the clock forward by `ms` milliseconds (never backwards). */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`a clock only advances; got ${ms} ms`);
    this.ms += ms;
  }
}
