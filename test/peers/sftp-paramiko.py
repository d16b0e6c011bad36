"""Paramiko's SFTP client against an SFTP server (issue 13 §2): put and get each of LOCAL/{zero,one,big},
a resumed upload (append to a partial file), then mkdir/rename/symlink/readlink/chmod/stat/listdir/
remove/rmdir/normalize; prints what it saw as one JSON line (the test compares bytes on disk).
usage: sftp-paramiko.py PORT KEY LOCAL"""
import json, os, sys
import paramiko

port, key, local = int(sys.argv[1]), sys.argv[2], sys.argv[3]
t = paramiko.Transport(('127.0.0.1', port))
t.connect(username='alice', pkey=paramiko.Ed25519Key.from_private_key_file(key))
s = paramiko.SFTPClient.from_transport(t)
out = {}
for n in ('zero', 'one', 'big'):
    s.put(os.path.join(local, n), 'pm-' + n)
    s.get('pm-' + n, os.path.join(local, 'pm-back-' + n))
# resume: the server holds the first 1000 bytes; append the rest at the remote size (as sftp reput)
with open(os.path.join(local, 'big'), 'rb') as src, s.open('pm-resume', 'ab') as dst:
    src.seek(s.stat('pm-resume').st_size)
    while True:
        chunk = src.read(32768)
        if not chunk:
            break
        dst.write(chunk)
s.mkdir('pmdir')
s.rename('pm-one', 'pmdir/one')
s.symlink('one', 'pmdir/ln')
out['readlink'] = s.readlink('pmdir/ln')
with s.open('pmdir/ln') as f:
    out['via_link'] = f.read().hex()
s.chmod('pmdir/one', 0o640)
out['mode'] = s.stat('pmdir/one').st_mode & 0o777
out['list'] = sorted(s.listdir('pmdir'))
s.remove('pmdir/ln')
s.remove('pmdir/one')
s.rmdir('pmdir')
out['normalize'] = s.normalize('../..')
out['gone'] = 'pmdir' not in s.listdir('.')
s.close()
t.close()
print(json.dumps(out))
