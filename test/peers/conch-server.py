#!/usr/bin/python3
"""Interop peer: a Twisted Conch server (python3-twisted), for `sshkit exec` to connect to.

usage: conch-server.py --host-key FILE --authorized FILE
Prints `listening PORT` once bound (port chosen by the kernel). A cred portal with Conch's own
SSHPublicKeyChecker over the keys of the authorized_keys FILE (any user name); each exec runs
`/bin/sh -c COMMAND` through reactor.spawnProcess, Conch's SSHSessionProcessProtocol carrying
stdin, stdout, stderr and the exit status. No pty, no shell. SIGTERM kills the commands' process
groups too.
"""
import argparse
import os
import signal
import sys
import warnings

warnings.filterwarnings('ignore')
from zope.interface import implementer  # noqa: E402
from twisted.conch import avatar, checkers, interfaces  # noqa: E402
from twisted.conch.ssh import factory, keys, session  # noqa: E402
from twisted.cred import portal  # noqa: E402
from twisted.internet import reactor  # noqa: E402
from twisted.python import components  # noqa: E402


RUNNING = set()  # the commands' process transports, killed (their groups) when the server stops


def kill_all():
    for p in list(RUNNING):
        try:
            if p.pid:
                os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass


class KeyFile:
    """IAuthorizedKeysDB: the same keys for every user name, read from one authorized_keys file."""

    def __init__(self, path):
        self.keys = []
        with open(path, 'rb') as f:
            for line in f:
                if line.strip() and not line.startswith(b'#'):
                    self.keys.append(keys.Key.fromString(line.strip()))

    def getAuthorizedKeys(self, username):
        return self.keys


class User(avatar.ConchUser):
    def __init__(self, username):
        avatar.ConchUser.__init__(self)
        self.username = username
        self.channelLookup[b'session'] = session.SSHSession


@implementer(portal.IRealm)
class Realm:
    def requestAvatar(self, avatarId, mind, *interfaces_):
        return interfaces_[0], User(avatarId), lambda: None


@implementer(interfaces.ISession)
class Exec:
    def __init__(self, user):
        self.proc = None

    def execCommand(self, proto, cmd):
        # setsid(1) (not a group leader, so it execs in place): the command's own process group.
        self.proc = reactor.spawnProcess(proto, '/usr/bin/setsid', ['setsid', '/bin/sh', '-c', cmd.decode('utf-8', 'surrogateescape')])
        RUNNING.add(self.proc)

    def eofReceived(self):
        if self.proc:
            self.proc.closeStdin()

    def getPty(self, term, windowSize, modes):
        raise NotImplementedError('no pty')

    def openShell(self, proto):
        raise NotImplementedError('exec only')

    def windowChanged(self, newWindowSize):
        pass

    def closed(self):
        RUNNING.discard(self.proc)


components.registerAdapter(Exec, User, interfaces.ISession)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--host-key', required=True)
    p.add_argument('--authorized', required=True)
    a = p.parse_args()
    host = keys.Key.fromFile(a.host_key)
    f = factory.SSHFactory()
    f.publicKeys = {host.sshType(): host.public()}
    f.privateKeys = {host.sshType(): host}
    f.primes = None  # no moduli file: fixed groups and curves only
    f.portal = portal.Portal(Realm(), [checkers.SSHPublicKeyChecker(KeyFile(a.authorized))])
    port = reactor.listenTCP(0, f, interface='127.0.0.1')
    print('listening %d' % port.getHost().port, flush=True)
    reactor.addSystemEventTrigger('before', 'shutdown', kill_all)  # SIGTERM stops the reactor
    reactor.run()


main()
