/**
 * A minimal ssh-agent client (draft-miller-ssh-agent §4.4, §4.5; OpenSSH authfd.c): list identities and
 * sign, over one Unix-socket connection, one request at a time. `certify -s CA.pub` signs through it
 * as `ssh-keygen -s CA.pub -U` does (authfd.c ssh_agent_has_key, ssh_agent_sign). ssh2's own agent
 * client is not used here: it drops the algorithm name from the agent's signature, and the certificate
 * writer must see it (an agent may answer an rsa-sha2-512 request with SHA-1 `ssh-rsa`). Replies are
 * read with the strict wire reader; a reply over 256 KiB (authfd.c MAX_AGENT_REPLY_LEN) is refused.
 */
import { connect, type Socket } from 'node:net';
import { SshkitError, Exit } from '../core/errors.js';
import { WireReader, WireWriter } from '../core/wire.js';

const REQUEST_IDENTITIES = 11;
const IDENTITIES_ANSWER = 12;
const SIGN_REQUEST = 13;
const SIGN_RESPONSE = 14;
/** SSH_AGENT_RSA_SHA2_256 / _512 sign-request flags. */
const RSA_FLAGS = new Map([
  ['rsa-sha2-256', 2],
  ['rsa-sha2-512', 4],
]);
const MAX_REPLY = 256 * 1024;

const agentError = (why: string) => new SshkitError(Exit.BAD, `ssh-agent: ${why}`);

/** One open connection to an ssh-agent. */
export class AgentClient {
  private buf = Buffer.alloc(0);
  private waiting: ((err: Error | null) => void) | null = null;
  private closed: Error | null = null;

  private constructor(private readonly sock: Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.waiting?.(null);
    });
    const end = (err?: Error) => {
      this.closed ??= agentError(err ? `connection failed (${(err as NodeJS.ErrnoException).code ?? err.message})` : 'the agent closed the connection');
      this.waiting?.(this.closed);
    };
    sock.on('error', end);
    sock.on('close', () => end());
  }

  /** Connects to the agent socket (SSH_AUTH_SOCK). */
  static open(path: string): Promise<AgentClient> {
    return new Promise((resolve, reject) => {
      const sock = connect(path);
      sock.once('connect', () => {
        sock.removeAllListeners('error');
        resolve(new AgentClient(sock));
      });
      sock.once('error', (err: NodeJS.ErrnoException) => reject(agentError(`${path}: cannot connect (${err.code ?? err.message})`)));
    });
  }

  private async reply(): Promise<{ type: number; body: Buffer }> {
    for (;;) {
      if (this.buf.length >= 4) {
        const len = this.buf.readUInt32BE(0);
        if (len === 0 || len > MAX_REPLY) throw agentError(`reply of ${len} bytes refused`);
        if (this.buf.length >= 4 + len) {
          const msg = this.buf.subarray(4, 4 + len);
          this.buf = this.buf.subarray(4 + len);
          return { type: msg[0], body: msg.subarray(1) };
        }
      }
      if (this.closed) throw this.closed;
      await new Promise<void>((resolve, reject) => {
        this.waiting = (err) => {
          this.waiting = null;
          if (err) reject(err);
          else resolve();
        };
      });
    }
  }

  private async request(type: number, payload: Buffer): Promise<{ type: number; body: Buffer }> {
    if (this.closed) throw this.closed;
    const msg = Buffer.concat([Buffer.from([type]), payload]);
    this.sock.write(new WireWriter().u32(msg.length).raw(msg).toBuffer());
    return this.reply();
  }

  /** The public key blobs the agent holds. */
  async identities(): Promise<Buffer[]> {
    const { type, body } = await this.request(REQUEST_IDENTITIES, Buffer.alloc(0));
    if (type !== IDENTITIES_ANSWER) throw agentError(`unexpected reply ${type} to a request for identities`);
    const r = new WireReader(body, 'ssh-agent identities');
    const n = r.u32();
    const out: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      out.push(Buffer.from(r.string()));
      r.string(); // comment
    }
    r.end();
    return out;
  }

  /** A signature blob over `data` by the agent's key `blob` (RSA: `algorithm` picks the flag). */
  async sign(blob: Buffer, data: Buffer, algorithm?: string): Promise<Buffer> {
    const flags = (algorithm && RSA_FLAGS.get(algorithm)) || 0;
    const { type, body } = await this.request(SIGN_REQUEST, new WireWriter().string(blob).string(data).u32(flags).toBuffer());
    if (type !== SIGN_RESPONSE) throw agentError('the agent refused to sign');
    const r = new WireReader(body, 'ssh-agent signature');
    const sig = Buffer.from(r.string());
    r.end();
    return sig;
  }

  /** Closes the connection. */
  close(): void {
    this.sock.destroy();
  }
}
