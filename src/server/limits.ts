/**
 * Connection limits, enforced on the raw TCP socket before ssh2 sees a byte (sshd_config(5) names):
 *  - `--max-startups N`: at most N connections not yet authenticated; more are closed at once;
 *  - `--login-grace-time S`: a connection not authenticated S seconds after accept is cut (sshd:
 *    "Timeout before authentication"); a half-open or silent socket is therefore bounded too;
 *  - `--idle-timeout S`: an authenticated connection with no session traffic for S seconds is closed;
 *  - TCP_NODELAY on every socket (PERF.md lesson 1: Nagle + delayed ACK cost ≈ 40 ms per round trip).
 * `--max-auth-tries` is counted per connection by server.ts, since only it sees auth attempts.
 */
import type { Socket } from 'node:net';

/** Limits from the command line (seconds; 0 disables a timer). */
export interface Limits {
  readonly maxAuthTries: number;
  readonly loginGraceTime: number;
  readonly maxStartups: number;
  readonly idleTimeout: number;
}

/** SPEC's defaults, as sshd's MaxAuthTries and LoginGraceTime. */
export const DEFAULT_LIMITS: Limits = { maxAuthTries: 6, loginGraceTime: 30, maxStartups: 100, idleTimeout: 0 };

/** Per-connection guard: call `authenticated()` once auth succeeds, `touch()` on session traffic. */
export interface Guard {
  authenticated(): void;
  touch(): void;
}

/** Counts unauthenticated connections and arms the timers. */
export class Gate {
  private unauth = 0;
  /** Connections refused by max-startups, cut by login grace / idle timeout (for stats). */
  readonly counters = { refusedStartups: 0, graceTimeouts: 0, idleTimeouts: 0 };

  constructor(
    readonly limits: Limits,
    private readonly onCut: (socket: Socket, why: 'max-startups' | 'login-grace-time' | 'idle-timeout') => void,
  ) {}

  get unauthenticated(): number {
    return this.unauth;
  }

  /** Admits a socket or closes it; returns its guard, or null when refused. */
  admit(socket: Socket): Guard | null {
    socket.setNoDelay(true);
    if (this.limits.maxStartups > 0 && this.unauth >= this.limits.maxStartups) {
      this.counters.refusedStartups++;
      this.onCut(socket, 'max-startups');
      socket.destroy();
      return null;
    }
    this.unauth++;
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
