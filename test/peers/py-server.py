#!/usr/bin/python3
"""Interop peer: an AsyncSSH server, for `sshkit exec` to connect to.

usage: py-server.py --host-key FILE --authorized FILE
Prints `listening PORT` once bound (port chosen by the kernel). Every user name is accepted with a key
from the authorized_keys FILE; each exec reads the client's stdin to EOF, runs `/bin/sh -c COMMAND` on
it and returns its stdout, stderr and exit status (simple and deterministic; no pty).
"""
import argparse
import asyncio
import subprocess
import sys
import warnings

warnings.filterwarnings('ignore')
import asyncssh  # noqa: E402


async def handle(process):
    data = await process.stdin.read()
    cmd = ['/bin/sh', '-c', process.command] if process.command else ['/bin/sh']
    r = await asyncio.get_running_loop().run_in_executor(
        None, lambda: subprocess.run(cmd, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    process.stdout.write(r.stdout)
    process.stderr.write(r.stderr)
    await process.stdout.drain()
    process.exit(r.returncode)


async def main():
    p = argparse.ArgumentParser()
    p.add_argument('--host-key', required=True)
    p.add_argument('--authorized', required=True)
    a = p.parse_args()
    server = await asyncssh.listen('127.0.0.1', 0, server_host_keys=[a.host_key], authorized_client_keys=a.authorized,
                                   process_factory=handle, encoding=None, allow_scp=False)
    port = server.sockets[0].getsockname()[1]
    print('listening %d' % port, flush=True)
    await asyncio.Future()


try:
    asyncio.run(main())
except (KeyboardInterrupt, asyncio.CancelledError):
    sys.exit(0)
