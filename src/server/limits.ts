/**
 * Connection limits, enforced on the raw TCP socket before ssh2 sees a byte (sshd_config(5) names):
 *  - `--max-startups start:rate:full` (or `N` = `N:100:N`): with `start` or more connections not yet
 *    authenticated a new one is dropped with probability rate%, rising linearly to 100% at `full`
 *    (sshd.c `should_drop_connection`, random early drop);
 *  - `--per-source-max-startups N`: at most N unauthenticated connections from one address (sshd's
 *    PerSourceMaxStartups with the default PerSourceNetBlockSize 32:128, i.e. one whole address);
 *  - `--max-sessions N`: session channels open at once on one connection (sshd MaxSessions, default
 *    10), counted by server.ts, which sees the channel opens;
 *  - `--login-grace-time S`: a connection not authenticated S seconds after accept is cut (sshd:
 *    "Timeout before authentication"); a half-open or silent socket is therefore bounded too;
 *  - `--idle-timeout S`: an authenticated connection with no session traffic for S seconds is closed;
 *  - TCP_NODELAY on every socket (PERF.md lesson 1: Nagle + delayed ACK cost ≈ 40 ms per round trip).
 * `--max-auth-tries` is counted per connection by auth-flow.ts, since only it sees auth attempts.
 */
import { randomInt } from 'node:crypto';
import type { Socket } from 'node:net';
import { bad } from '../core/errors.js';

/** sshd's MaxStartups triple: random early drop from `start` (at `rate` %) up to `full` (always). */
export interface Startups {
  readonly start: number;
  readonly rate: number;
  readonly full: number;
}

/** Limits from the command line (seconds; 0 disables a timer or a per-source limit). */
export interface Limits {
  readonly maxAuthTries: number;
  readonly loginGraceTime: number;
  readonly maxStartups: Startups;
  readonly perSourceMaxStartups: number;
  readonly maxSessions: number;
  readonly idleTimeout: number;
}

/** SPEC's defaults, as sshd's MaxAuthTries, LoginGraceTime and MaxSessions (MaxStartups: SPEC's 100). */
export const DEFAULT_LIMITS: Limits = {
  maxAuthTries: 6,
  loginGraceTime: 30,
  maxStartups: { start: 100, rate: 100, full: 100 },
  perSourceMaxStartups: 0,
  maxSessions: 10,
  idleTimeout: 0,
};

/**
 * Parses `N` or `start:rate:full` as sshd's servconf.c does: one number means a hard limit; with three,
 * start ≤ full and 1 ≤ rate ≤ 100; all positive. Bad specs are a one-line usage error.
 */
export function parseStartups(spec: string): Startups {
  const m = /^(\d{1,9})(?::(\d{1,9}):(\d{1,9}))?$/.exec(spec.trim());
  const why = `--max-startups: expected N or start:rate:full (as sshd's MaxStartups), got "${spec}"`;
  if (!m) throw bad(why);
  const start = Number(m[1]);
  const rate = m[2] === undefined ? 100 : Number(m[2]);
  const full = m[3] === undefined ? start : Number(m[3]);
  if (start < 1 || full < 1 || start > full || rate < 1 || rate > 100) throw bad(why);
  return { start, rate, full };
}

/**
 * Should a new connection be dropped with `n` connections already unauthenticated? sshd.c
 * `should_drop_connection`: never below start, always at full, else with probability
 * rate + (100 - rate) · (n - start) / (full - start) percent (integer arithmetic, as sshd).
 */
export function shouldDrop(s: Startups, n: number, roll: () => number = () => randomInt(100)): boolean {
  if (n < s.start) return false;
  if (n >= s.full) return true;
  if (s.rate === 100) return true;
  const p = Math.trunc(((100 - s.rate) * (n - s.start)) / (s.full - s.start)) + s.rate;
  return roll() < p;
}

/** Per-connection guard: call `authenticated()` once auth succeeds, `touch()` on session traffic. */
export interface Guard {
  authenticated(): void;
  touch(): void;
}

/** Why the gate closed a socket (the `cut` log line's reason). */
export type CutReason = 'max-startups' | 'per-source-max-startups' | 'login-grace-time' | 'idle-timeout';

/** Counts unauthenticated connections (in all and per source address) and arms the timers. */
export class Gate {
  private unauth = 0;
  private readonly bySource = new Map<string, number>();
  /** Connections refused by max-startups, cut by login grace / idle timeout (for stats). */
  readonly counters = { refusedStartups: 0, refusedPerSource: 0, graceTimeouts: 0, idleTimeouts: 0 };

  constructor(
    readonly limits: Limits,
    private readonly onCut: (socket: Socket, why: CutReason) => void,
  ) {}

  get unauthenticated(): number {
    return this.unauth;
  }

  /** Admits a socket from `source` (its address) or closes it; returns its guard, or null when refused. */
  admit(socket: Socket, source: string): Guard | null {
    socket.setNoDelay(true);
    const fromHere = this.bySource.get(source) ?? 0;
    const perSource = this.limits.perSourceMaxStartups;
    if (perSource > 0 && fromHere >= perSource) {
      this.counters.refusedPerSource++;
      this.onCut(socket, 'per-source-max-startups');
      socket.destroy();
      return null;
    }
    if (shouldDrop(this.limits.maxStartups, this.unauth)) {
      this.counters.refusedStartups++;
      this.onCut(socket, 'max-startups');
      socket.destroy();
      return null;
    }
    this.unauth++;
    this.bySource.set(source, fromHere + 1);
    let authed = false;
    let last = Date.now();
    let idleTimer: NodeJS.Timeout | undefined;
    const grace =
      this.limits.loginGraceTime > 0
        ? setTimeout(() => {
            this.counters.graceTimeouts++;
            this.onCut(socket, 'login-grace-time');
            socket.destroy();
          }, this.limits.loginGraceTime * 1000)
        : undefined;
    grace?.unref();
    const release = () => {
      if (!authed) {
        authed = true;
        this.unauth--;
        const left = (this.bySource.get(source) ?? 1) - 1;
        if (left > 0) this.bySource.set(source, left);
        else this.bySource.delete(source);
      }
    };
    socket.once('close', () => {
      release();
      if (grace) clearTimeout(grace);
      if (idleTimer) clearTimeout(idleTimer);
    });
    const idleMs = this.limits.idleTimeout * 1000;
    const armIdle = () => {
      idleTimer = setTimeout(() => {
        const quiet = Date.now() - last;
        if (quiet >= idleMs) {
          this.counters.idleTimeouts++;
          this.onCut(socket, 'idle-timeout');
          socket.destroy();
        } else {
          armIdle();
        }
      }, Math.max(50, idleMs - (Date.now() - last)));
      idleTimer.unref();
    };
    return {
      authenticated: () => {
        if (grace) clearTimeout(grace);
        release();
        last = Date.now();
        if (idleMs > 0 && !socket.destroyed) armIdle();
      },
      touch: () => {
        last = Date.now();
      },
    };
  }
}
