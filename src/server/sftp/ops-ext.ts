/**
 * SSH_FXP_EXTENDED requests (draft-02 §8) that OpenSSH's sftp-server offers and its client uses
 * (OpenSSH PROTOCOL §4.3–4.11): posix-rename@openssh.com, statvfs@openssh.com and
 * fstatvfs@openssh.com (`df`), hardlink@openssh.com (`ln`), fsync@openssh.com and limits@openssh.com
 * (the client sizes its reads and writes from it). Their arguments are read with the strict wire reader
 * (trailing bytes refused); anything else is SSH_FX_OP_UNSUPPORTED, as sftp-server.
 */
import { statfsSync } from 'node:fs';
import { WireReader, WireWriter } from '../../core/wire.js';
import { FX } from './attrs.js';
import { fail, type Ctx } from './context.js';
import { at } from './jail.js';
import { opFsync } from './ops-files.js';
import { opHardlink, opRename } from './ops-paths.js';
import { extendedReply } from './wire.js';

/** What the VERSION reply announces (name, version), as sftp-server.c's process_init(). */
export const EXTENSIONS: ReadonlyArray<[string, string]> = [
  ['posix-rename@openssh.com', '1'],
  ['statvfs@openssh.com', '2'],
  ['fstatvfs@openssh.com', '2'],
  ['hardlink@openssh.com', '1'],
  ['fsync@openssh.com', '1'],
  ['limits@openssh.com', '1'],
];

/** statvfs(3)'s ST_RDONLY and ST_NOSUID, as PROTOCOL §4.4's SSH_FXE_STATVFS_* flags. */
const ST_RDONLY = 1;
const ST_NOSUID = 2;

/** The statvfs@openssh.com reply (PROTOCOL §4.4: eleven uint64s). */
function statvfsReply(ctx: Ctx, reqid: number, path: string): void {
  const s = statfsSync(path);
  const body = new WireWriter();
  for (const v of [s.bsize, s.bsize, s.blocks, s.bfree, s.bavail, s.files, s.ffree, s.ffree, 0, (ctx.readOnly ? ST_RDONLY : 0) | ST_NOSUID, 255]) body.u64(BigInt(v));
  extendedReply(ctx.sftp, reqid, body.toBuffer());
}

/** Serves one SSH_FXP_EXTENDED request. */
export function opExtended(ctx: Ctx, reqid: number, name: string, data: Buffer | undefined): void | Promise<void> {
  const r = new WireReader(data ?? Buffer.alloc(0), name);
  try {
    switch (name) {
      case 'posix-rename@openssh.com':
      case 'hardlink@openssh.com': {
        const from = r.text();
        const to = r.text();
        r.end();
        return name === 'hardlink@openssh.com' ? opHardlink(ctx, reqid, from, to) : opRename(ctx, reqid, from, to, true);
      }
      case 'statvfs@openssh.com': {
        const path = r.text();
        r.end();
        const res = ctx.jail.resolve(path);
        try {
          return statvfsReply(ctx, reqid, at(res.fd));
        } finally {
          res.close();
        }
      }
      case 'fstatvfs@openssh.com':
      case 'fsync@openssh.com': {
        const handle = r.string();
        r.end();
        if (name === 'fsync@openssh.com') return opFsync(ctx, reqid, handle);
        const h = ctx.handles.get(handle);
        if (!h) return ctx.sftp.status(reqid, FX.FAILURE, 'invalid handle');
        return statvfsReply(ctx, reqid, at(h.fd));
      }
      case 'limits@openssh.com': {
        r.end();
        const l = ctx.limits;
        const body = new WireWriter().u64(BigInt(l.maxPacket)).u64(BigInt(l.maxRead)).u64(BigInt(l.maxPacket - 1024)).u64(BigInt(l.maxHandles));
        return extendedReply(ctx.sftp, reqid, body.toBuffer());
      }
      default:
        return ctx.sftp.status(reqid, FX.OP_UNSUPPORTED, 'Operation unsupported');
    }
  } catch (e) {
    if ((e as Error)?.name === 'ParseError' || e instanceof RangeError) return ctx.sftp.status(reqid, FX.BAD_MESSAGE, 'Bad message');
    fail(ctx, reqid, e);
  }
}
