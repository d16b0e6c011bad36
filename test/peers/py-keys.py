#!/usr/bin/python3
"""Interop peer: key files with Paramiko or AsyncSSH, as an application would read and write them.

usage: py-keys.py paramiko|asyncssh read PRIVATE_KEY_FILE       -> prints the public key line it derives
       py-keys.py paramiko|asyncssh write TYPE OUT [COMMENT]    -> writes OUT (OpenSSH private key) and OUT.pub
TYPE: ed25519, ecdsa256, ecdsa384, ecdsa521, rsa2048, rsa3072. Failures: one `peer-error: ...` line, exit 2.
"""
import sys
import warnings

warnings.filterwarnings('ignore')

ALGS = {'ed25519': ('ssh-ed25519', {}), 'ecdsa256': ('ecdsa-sha2-nistp256', {}),
        'ecdsa384': ('ecdsa-sha2-nistp384', {}), 'ecdsa521': ('ecdsa-sha2-nistp521', {}),
        'rsa2048': ('ssh-rsa', {'key_size': 2048}), 'rsa3072': ('ssh-rsa', {'key_size': 3072})}


def paramiko_read(path):
    import paramiko
    for cls in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            k = cls.from_private_key_file(path)
            return '%s %s' % (k.get_name(), k.get_base64())
        except Exception:
            continue
    raise ValueError('paramiko cannot read %s' % path)


def paramiko_write(typ, out, comment):
    import paramiko
    if typ.startswith('ecdsa'):
        k = paramiko.ECDSAKey.generate(bits=int(typ[5:]))
    elif typ.startswith('rsa'):
        k = paramiko.RSAKey.generate(int(typ[3:]))
    else:
        raise ValueError('paramiko 2.12 cannot generate %s keys' % typ)
    k.write_private_key_file(out)  # PEM (traditional) for RSA/ECDSA
    with open(out + '.pub', 'w') as f:
        f.write('%s %s %s\n' % (k.get_name(), k.get_base64(), comment))


def asyncssh_read(path):
    import asyncssh
    return asyncssh.read_private_key(path).export_public_key('openssh').decode().strip()


def asyncssh_write(typ, out, comment):
    import asyncssh
    alg, kw = ALGS[typ]
    k = asyncssh.generate_private_key(alg, comment=comment, **kw)
    k.write_private_key(out, 'openssh')
    k.write_public_key(out + '.pub', 'openssh')


def main():
    lib, op = sys.argv[1], sys.argv[2]
    try:
        if op == 'read':
            print((paramiko_read if lib == 'paramiko' else asyncssh_read)(sys.argv[3]))
        else:
            comment = sys.argv[5] if len(sys.argv) > 5 else '%s-%s' % (lib, sys.argv[3])
            (paramiko_write if lib == 'paramiko' else asyncssh_write)(sys.argv[3], sys.argv[4], comment)
    except Exception as e:
        sys.stderr.write('peer-error: %s: %s\n' % (type(e).__name__, e))
        sys.exit(2)


main()
