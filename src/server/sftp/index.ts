/**
 * `--sftp ROOT` (issue 13 §2): the SFTP subsystem, protocol version 3 as OpenSSH's sftp-server, with
 * ROOT as `/` and a jail (jail.ts) no path, symlink, link, rename or race gets out of. ssh2 parses and
 * writes the packets; this file serves the requests one at a time, in order (as sftp-server's single
 * loop), and bounds what a session may cost: open handles, request size (ssh2's packet cap, which
 * limits@openssh.com announces), READ length, and output waiting for a client that stops reading
 * (requests are not served while it is over `outputHigh`, and input is held, so the client is
 * throttled by its own window).
 */
import type { SFTPWrapper } from 'ssh2';
import { guardIncomingWindow } from '../channel-flow.js';
import { FX } from './attrs.js';
import { DEFAULT_SFTP_LIMITS, type Ctx, type SftpLimits, type SftpLog } from './context.js';
import { HandleTable } from './handles.js';
import { Jail } from './jail.js';
import { opOpendir, opReaddir } from './ops-dirs.js';
import { EXTENSIONS, opExtended } from './ops-ext.js';
import { opClose, opFsetstat, opFstat, opOpen, opRead, opWrite } from './ops-files.js';
import { opMkdir, opReadlink, opRealpath, opRemove, opRename, opRmdir, opSetstat, opStat, opSymlink } from './ops-paths.js';
import { announceExtensions, backlog, endWithStatus, gateInput, symlinkOrderByClient } from './wire.js';

export { DEFAULT_SFTP_LIMITS, type SftpLimits, type SftpLog };

/** What serveSftp takes. */
export interface SftpOptions {
  /** The folder served as `/`: absolute, `%u` already expanded. */
  root: string;
  /** `--sftp-read-only`: every change is SSH_FX_PERMISSION_DENIED. */
  readOnly: boolean;
  /** One call per open/close/rename/remove/mkdir/rmdir/setstat/symlink/link (raw values; the logger escapes). */
  log: SftpLog;
  limits?: Partial<SftpLimits>;
  /** Called on each request (the server's --idle-timeout: a transfer is activity). */
  touch?: () => void;
}

type Job = () => void | Promise<void>;

/**
 * Serves one SFTP stream (ssh2's from `accept()` of a session's 'sftp' event) until it ends; resolves
 * then, with every handle closed. A ROOT that cannot be opened ends the stream at once, logged.
 */
export function serveSftp(sftp: SFTPWrapper, opts: SftpOptions): Promise<void> {
  const raw = sftp as any;
  const limits: SftpLimits = { ...DEFAULT_SFTP_LIMITS, ...opts.limits };
  let jail: Jail;
  try {
    jail = new Jail(opts.root);
  } catch (e) {
    opts.log('sftp-refused', { root: opts.root, reason: (e as NodeJS.ErrnoException)?.code ?? String(e) });
    try {
      sftp.end();
    } catch {
      /* already gone */
    }
    return Promise.resolve();
  }
  raw._maxInPktLen = Math.min(raw._maxInPktLen ?? limits.maxPacket, limits.maxPacket);
  symlinkOrderByClient(raw);
  announceExtensions(raw, EXTENSIONS);
  guardIncomingWindow(raw, (info) => opts.log('sftp-window-overrun', { ...info }));

  const handles = new HandleTable(limits.maxHandles);
  const ctx: Ctx = { sftp: raw, jail, handles, readOnly: opts.readOnly, limits, log: opts.log, readBuf: Buffer.allocUnsafe(limits.maxRead) };
  const queue: Job[] = [];
  let busy = false;
  let ended = false;
  const full = () => queue.length >= limits.queueHigh || backlog(raw) > limits.outputHigh;
  const resume = gateInput(raw, full);

  const pump = (): void => {
    if (busy || ended) return;
    while (queue.length > 0) {
      if (backlog(raw) > limits.outputHigh) {
        // a client not reading: wait for ssh2's queue and the socket to drain (window adjust, 'drain')
        setTimeout(pump, 5);
        return;
      }
      const job = queue.shift()!;
      let res: void | Promise<void>;
      try {
        res = job();
      } catch (e) {
        opts.log('sftp-error', { reason: String((e as Error)?.message ?? e).slice(0, 200) });
        continue;
      }
      if (res instanceof Promise) {
        busy = true;
        res.then(
          () => {
            busy = false;
            pump();
          },
          (e) => {
            busy = false;
            opts.log('sftp-error', { reason: String((e as Error)?.message ?? e).slice(0, 200) });
            pump();
          },
        );
        return;
      }
    }
    resume();
  };
  /** A handler that threw (a bug, not an errno): logged, and the request still gets its answer. */
  const answerBug = (reqid: number, e: unknown): void => {
    opts.log('sftp-error', { reason: String((e as Error)?.message ?? e).slice(0, 200) });
    try {
      raw.status(reqid, FX.FAILURE, 'Failure');
    } catch {
      /* the stream is gone */
    }
  };
  const on = (event: string, fn: (reqid: number, ...args: any[]) => void | Promise<void>) =>
    raw.on(event, (reqid: number, ...args: any[]) => {
      // ssh2 hands WRITE data as a view of its packet buffer: copy what waits in the queue
      if (event === 'WRITE' && Buffer.isBuffer(args[2])) args[2] = Buffer.from(args[2]);
      opts.touch?.();
      queue.push(() => {
        try {
          const r = fn(reqid, ...args);
          return r instanceof Promise ? r.catch((e) => answerBug(reqid, e)) : r;
        } catch (e) {
          answerBug(reqid, e);
        }
      });
      pump();
    });

  on('OPEN', (id, path, flags, attrs) => opOpen(ctx, id, path, flags, attrs));
  on('READ', (id, h, off, len) => opRead(ctx, id, h, off, len));
  on('WRITE', (id, h, off, data) => opWrite(ctx, id, h, off, data));
  on('CLOSE', (id, h) => opClose(ctx, id, h));
  on('FSTAT', (id, h) => opFstat(ctx, id, h));
  on('FSETSTAT', (id, h, attrs) => opFsetstat(ctx, id, h, attrs));
  on('OPENDIR', (id, path) => opOpendir(ctx, id, path));
  on('READDIR', (id, h) => opReaddir(ctx, id, h));
  on('STAT', (id, path) => opStat(ctx, id, path, true));
  on('LSTAT', (id, path) => opStat(ctx, id, path, false));
  on('SETSTAT', (id, path, attrs) => opSetstat(ctx, id, path, attrs));
  on('REALPATH', (id, path) => opRealpath(ctx, id, path));
  on('MKDIR', (id, path, attrs) => opMkdir(ctx, id, path, attrs));
  on('RMDIR', (id, path) => opRmdir(ctx, id, path));
  on('REMOVE', (id, path) => opRemove(ctx, id, path));
  on('RENAME', (id, from, to) => opRename(ctx, id, from, to, false));
  on('READLINK', (id, path) => opReadlink(ctx, id, path));
  on('SYMLINK', (id, link, target) => opSymlink(ctx, id, link, target));
  on('EXTENDED', (id, name, data) => opExtended(ctx, id, name, data));

  return new Promise<void>((resolve) => {
    const finish = () => {
      if (ended) return;
      ended = true;
      queue.length = 0;
      for (const h of handles.closeAll()) opts.log('sftp-close', { path: h.path, reason: 'session-end', result: 'ok' });
      jail.dispose();
      resolve();
    };
    // the client's EOF: answer what is queued, let ssh2's queue empty, then close (sftp-server exits)
    raw.once('end', () => {
      const close = (): void => {
        if (ended) return;
        if ((raw._buffer?.length ?? 0) > 0) return void setTimeout(close, 5);
        finish();
        try {
          endWithStatus(raw, 0);
        } catch {
          /* already closed */
        }
      };
      queue.push(close);
      pump();
    });
    raw.once('close', finish);
    raw.once('error', (e: Error) => {
      opts.log('sftp-error', { reason: String(e?.message ?? e).slice(0, 200) });
      finish();
    });
  });
}

