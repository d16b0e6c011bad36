#!/usr/bin/python3
"""Interop peer: one SSH exec (or pty shell) with Paramiko or AsyncSSH, the way an application would.

usage: py-client.py paramiko|asyncssh --port N --user U [--key FILE] [--password PW]
                    [--host-pub FILE] [--host-alg ALG] [--pty] [--shell] [--cmd COMMAND]

Remote stdout -> our stdout (bytes), remote stderr -> our stderr, stdin -> remote stdin; exit status is
the remote one. Own failures (connect, host key, auth) print one `peer-error: ...` line and exit 255.
--host-pub pins the server's host key (anything else is refused); without it any host key is taken.
--host-alg restricts the host-key algorithm offered. --key alone means public-key auth only.
"""
import argparse
import sys
import warnings

warnings.filterwarnings('ignore')


def args():
    p = argparse.ArgumentParser()
    p.add_argument('lib', choices=['paramiko', 'asyncssh'])
    p.add_argument('--port', type=int, required=True)
    p.add_argument('--user', required=True)
    p.add_argument('--key')
    p.add_argument('--password')
    p.add_argument('--host-pub')
    p.add_argument('--host-alg')
    p.add_argument('--pty', action='store_true')
    p.add_argument('--shell', action='store_true')
    p.add_argument('--cmd', dest='command')
    return p.parse_args()


class PeerError(Exception):
    pass


def fail(msg):
    raise PeerError(msg)


def run_paramiko(a, data):
    import paramiko
    c = paramiko.SSHClient()
    if a.host_pub:
        typ, b64 = open(a.host_pub).read().split()[:2]
        from paramiko.hostkeys import HostKeyEntry
        key = HostKeyEntry.from_line('x %s %s' % (typ, b64)).key
        c.get_host_keys().add('[127.0.0.1]:%d' % a.port, typ, key)
        c.set_missing_host_key_policy(paramiko.RejectPolicy())
    else:
        c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    kw = dict(port=a.port, username=a.user, timeout=20, banner_timeout=20, auth_timeout=20,
              allow_agent=False, look_for_keys=False)
    if a.key:
        kw['key_filename'] = a.key
    if a.password:
        kw['password'] = a.password
    if a.host_alg:
        everything = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521',
                      'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ssh-dss']
        kw['disabled_algorithms'] = {'keys': [x for x in everything if x != a.host_alg]}
    try:
        c.connect('127.0.0.1', **kw)
    except Exception as e:
        fail('%s: %s' % (type(e).__name__, e))
    ch = c.get_transport().open_session()
    if a.pty:
        ch.get_pty(term='xterm', width=80, height=24)
    if a.shell:
        ch.invoke_shell()
    else:
        ch.exec_command(a.command)
    ch.sendall(data)
    ch.shutdown_write()
    out, err = bytearray(), bytearray()
    while True:
        got = False
        if ch.recv_ready():
            out += ch.recv(65536)
            got = True
        if ch.recv_stderr_ready():
            err += ch.recv_stderr(65536)
            got = True
        if not got:
            if ch.exit_status_ready() and not ch.recv_ready() and not ch.recv_stderr_ready() and ch.eof_received:
                break
            import time
            time.sleep(0.01)
    status = ch.recv_exit_status()
    c.close()
    return bytes(out), bytes(err), status


def run_asyncssh(a, data):
    import asyncio
    import asyncssh

    async def go():
        kw = dict(port=a.port, username=a.user, agent_path=None, known_hosts=None,
                  client_keys=[a.key] if a.key else None, password=a.password,
                  connect_timeout=20, login_timeout=20)
        if not a.key:
            kw['client_keys'] = None
            kw['preferred_auth'] = 'password'
        elif not a.password:
            kw['preferred_auth'] = 'publickey'
        if a.host_pub:
            kw['known_hosts'] = ([asyncssh.read_public_key(a.host_pub)], [], [])
        if a.host_alg:
            kw['server_host_key_algs'] = [a.host_alg]
        try:
            conn = await asyncssh.connect('127.0.0.1', **kw)
        except Exception as e:
            fail('%s: %s' % (type(e).__name__, e))
        async with conn:
            term = dict(term_type='xterm', term_size=(80, 24)) if a.pty else dict()
            r = await conn.run(None if a.shell else a.command, input=data, encoding=None, **term)
            return r.stdout or b'', r.stderr or b'', r.exit_status

    return asyncio.run(asyncio.wait_for(go(), 60))


def main():
    a = args()
    data = sys.stdin.buffer.read()
    try:
        out, err, status = (run_paramiko if a.lib == 'paramiko' else run_asyncssh)(a, data)
    except PeerError as e:
        sys.stderr.write('peer-error: %s\n' % str(e).replace('\n', ' '))
        sys.exit(255)
    sys.stdout.buffer.write(out)
    sys.stdout.flush()
    sys.stderr.buffer.write(err)
    sys.exit(255 if status is None else status)


main()
