#!/usr/bin/python3
"""Interop peer: a Paramiko server (paramiko.ServerInterface + Transport), for `sshkit exec` to connect to.

usage: paramiko-server.py --host-key FILE --authorized FILE
Prints `listening PORT` once bound (port chosen by the kernel). Every user name is accepted with a key
whose blob is in the authorized_keys FILE (Paramiko checks the signature); each exec runs
`/bin/sh -c COMMAND`, streaming the channel to its stdin and its stdout/stderr back, then sends its
exit status. No pty, no shell, no subsystems. SIGTERM kills the commands' process groups too.
"""
import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import warnings

warnings.filterwarnings('ignore')
import paramiko  # noqa: E402


def load_host_key(path):
    for cls in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return cls.from_private_key_file(path)
        except Exception:
            continue
    sys.exit('paramiko-server: cannot read host key %s' % path)


def read_authorized(path):
    blobs = set()
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and not line.startswith('#'):
                blobs.add(parts[1])
    return blobs


class Server(paramiko.ServerInterface):
    def __init__(self, blobs):
        self.blobs = blobs
        self.command = None
        self.ready = threading.Event()

    def get_allowed_auths(self, username):
        return 'publickey'

    def check_auth_publickey(self, username, key):
        return paramiko.AUTH_SUCCESSFUL if key.get_base64() in self.blobs else paramiko.AUTH_FAILED

    def check_channel_request(self, kind, chanid):
        return paramiko.OPEN_SUCCEEDED if kind == 'session' else paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_exec_request(self, channel, command):
        if self.command is not None:
            return False
        self.command = command
        self.ready.set()
        return True


RUNNING = set()  # pids (= process groups) of the commands still running


def stop(signum, frame):
    for pid in list(RUNNING):
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
    os._exit(0)


def pump_in(chan, proc):
    try:
        while True:
            d = chan.recv(32768)
            if not d:
                break
            proc.stdin.write(d)
            proc.stdin.flush()
    except (OSError, EOFError):
        pass
    finally:
        try:
            proc.stdin.close()
        except OSError:
            pass


def pump_out(src, send):
    while True:
        d = src.read1(32768) if hasattr(src, 'read1') else src.read(32768)
        if not d:
            return
        send(d)


def session(sock, host_key, blobs):
    t = paramiko.Transport(sock)
    t.banner_timeout = 30
    t.auth_timeout = 30
    t.add_server_key(host_key)
    server = Server(blobs)
    try:
        t.start_server(server=server)
        chan = t.accept(30)
        if chan is None or not server.ready.wait(30):
            return
        proc = subprocess.Popen(['/bin/sh', '-c', server.command.decode('utf-8', 'surrogateescape')],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True)
        RUNNING.add(proc.pid)
        threading.Thread(target=pump_in, args=(chan, proc), daemon=True).start()
        err = threading.Thread(target=pump_out, args=(proc.stderr, chan.sendall_stderr), daemon=True)
        err.start()
        pump_out(proc.stdout, chan.sendall)
        err.join()
        status = proc.wait()
        RUNNING.discard(proc.pid)
        chan.send_exit_status(status)
        chan.shutdown_write()
        chan.close()
        # Let the client hang up first: closing with its last packets unread would send a TCP RST,
        # which can make the client's kernel drop the exit status and close still in its buffer.
        for _ in range(100):
            if not t.is_active():
                break
            t.join(0.1)
    except Exception as e:  # one connection's failure never stops the server
        print('paramiko-server: %r' % (e,), file=sys.stderr, flush=True)
    finally:
        t.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--host-key', required=True)
    p.add_argument('--authorized', required=True)
    a = p.parse_args()
    signal.signal(signal.SIGTERM, stop)  # a stopped server takes its commands with it
    host_key = load_host_key(a.host_key)
    blobs = read_authorized(a.authorized)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(('127.0.0.1', 0))
    ls.listen(16)
    print('listening %d' % ls.getsockname()[1], flush=True)
    while True:
        sock, _ = ls.accept()
        threading.Thread(target=session, args=(sock, host_key, blobs), daemon=True).start()


try:
    main()
except KeyboardInterrupt:
    sys.exit(0)
