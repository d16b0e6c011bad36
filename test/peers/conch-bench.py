#!/usr/bin/python3
"""Benchmark reference: a Twisted Conch server (Debian's python3-twisted) built the way sshkit serve is.

usage: conch-bench.py --host-key FILE --authorized FILE
Prints `listening PORT` once bound (port chosen by the kernel), then reads the authorized_keys FILE,
as sshkit serve does (listen first, parse at start: the first login waits for the parse). Each line's
key blob is base64-decoded into a dict (../../shared/PERF.md: "Twisted Conch, dict-based checker";
parsing every line with keys.Key.fromString instead takes ≈ 100 µs a line, 10 s for 100,000); the
publickey check is a dict lookup, then Conch parses the offered key and verifies it. `exec` is answered in process
like sshkit's builtin commands (`echo ARGS` prints ARGS, anything else exits 127), no fork, no pty,
no shell. Any user name is accepted with a listed key (sshkit's one shared file does the same).
"""
import argparse
import binascii
import resource
import sys
import warnings

warnings.filterwarnings('ignore')
from zope.interface import implementer  # noqa: E402
from twisted.conch import avatar, error, interfaces  # noqa: E402
from twisted.conch.ssh import factory, keys, session  # noqa: E402
from twisted.cred import checkers, credentials, portal  # noqa: E402
from twisted.cred.error import UnauthorizedLogin  # noqa: E402
from twisted.internet import defer, reactor  # noqa: E402
from twisted.internet.error import ProcessDone, ProcessTerminated  # noqa: E402
from twisted.python import components, failure  # noqa: E402


KEY_TYPES = {b'ssh-ed25519', b'ssh-rsa', b'ecdsa-sha2-nistp256', b'ecdsa-sha2-nistp384', b'ecdsa-sha2-nistp521'}


def read_blobs(path):
    """The blob of every line's `type base64` pair (after options, if any), base64-decoded into a dict:
    the checker PERF.md measured (first login 302 ms with 100,000 keys). The key is parsed by Conch only
    when a client offers it (BlobChecker). A line without a known type or with bad base64 is skipped."""
    blobs = {}
    with open(path, 'rb') as f:
        for line in f:
            fields = line.split()
            if not fields or fields[0].startswith(b'#'):
                continue
            at = 0 if fields[0] in KEY_TYPES else 1
            if len(fields) < at + 2 or fields[at] not in KEY_TYPES:
                continue
            try:
                blobs[binascii.a2b_base64(fields[at + 1])] = True
            except binascii.Error:
                continue
    return blobs


@implementer(checkers.ICredentialsChecker)
class BlobChecker:
    credentialInterfaces = (credentials.ISSHPrivateKey,)

    def __init__(self):
        self.blobs = {}

    def requestAvatarId(self, c):
        if c.blob not in self.blobs:
            return defer.fail(UnauthorizedLogin('key not listed'))
        if not c.signature:
            return defer.fail(error.ValidPublicKey())  # the query: "this key would do"
        if keys.Key.fromString(c.blob).verify(c.signature, c.sigData):
            return defer.succeed(c.username)
        return defer.fail(UnauthorizedLogin('bad signature'))


class User(avatar.ConchUser):
    def __init__(self, username):
        avatar.ConchUser.__init__(self)
        self.username = username
        self.channelLookup[b'session'] = session.SSHSession


@implementer(portal.IRealm)
class Realm:
    def requestAvatar(self, avatarId, mind, *interfaces_):
        return interfaces_[0], User(avatarId), lambda: None


class NoProcess:
    """The transport of a command that runs in process: SSHSession.loseConnection closes it."""

    def loseConnection(self):
        pass

    def write(self, data):
        pass  # stdin of a builtin is ignored

    def closeStdin(self):
        pass


@implementer(interfaces.ISession)
class Builtin:
    def __init__(self, user):
        pass

    def execCommand(self, proto, cmd):
        proto.transport = NoProcess()
        # after request_exec has returned: the channel request's success goes first, as with a process
        reactor.callLater(0, self.run, proto, cmd.decode('utf-8', 'surrogateescape').split())

    def run(self, proto, argv):
        if argv and argv[0] == 'echo':
            proto.outReceived((' '.join(argv[1:]) + '\n').encode())
            reason = ProcessDone(0)
        else:
            proto.errReceived(b'unknown command\n')
            reason = ProcessTerminated(exitCode=127)
        proto.session.conn.sendEOF(proto.session)
        proto.processEnded(failure.Failure(reason))

    def eofReceived(self):
        pass

    def getPty(self, term, windowSize, modes):
        raise NotImplementedError('no pty')

    def openShell(self, proto):
        pass  # an idle shell channel (the benchmark's idle sessions): open, silent

    def windowChanged(self, newWindowSize):
        pass

    def closed(self):
        pass


components.registerAdapter(Builtin, User, interfaces.ISession)


class Factory(factory.SSHFactory):
    """TCP_NODELAY on every connection, as sshkit and sshd set it (PERF.md lesson 1: ≈ 40 ms a round trip otherwise)."""

    def buildProtocol(self, addr):
        proto = factory.SSHFactory.buildProtocol(self, addr)
        made = proto.connectionMade

        def connectionMade():
            proto.transport.setTcpNoDelay(True)
            made()

        proto.connectionMade = connectionMade
        return proto


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--host-key', required=True)
    p.add_argument('--authorized', required=True)
    a = p.parse_args()
    host = keys.Key.fromFile(a.host_key)
    checker = BlobChecker()
    f = Factory()
    f.publicKeys = {host.sshType(): host.public()}
    f.privateKeys = {host.sshType(): host}
    f.primes = None  # no moduli file: fixed groups and curves only
    f.portal = portal.Portal(Realm(), [checker])
    port = reactor.listenTCP(0, f, interface='127.0.0.1', backlog=2048)
    print('listening %d' % port.getHost().port, flush=True)

    def load():
        checker.blobs = read_blobs(a.authorized)
        print('loaded %d keys, peak RSS %d KiB' % (len(checker.blobs), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss), file=sys.stderr, flush=True)

    reactor.callWhenRunning(load)
    reactor.run()


main()
