"""A client that stops reading (issue 13 §2 backpressure): sends N SFTP READs of ~255 KiB on one file
without reading any reply for STALL seconds (Paramiko grants window only as replies are consumed, so
the server's window to us closes), prints 'sent', then reads every reply and prints 'drained N BYTES'.
usage: sftp-stall.py PORT KEY PATH N STALL"""
import sys, time
import paramiko
from paramiko.sftp import CMD_READ, CMD_DATA
from paramiko.py3compat import long  # an int sent as uint64 by _async_request

port, key, path, n, stall = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
CHUNK = 256 * 1024 - 1024
t = paramiko.Transport(('127.0.0.1', port))
t.connect(username='alice', pkey=paramiko.Ed25519Key.from_private_key_file(key))
sftp = paramiko.SFTPClient.from_transport(t)
f = sftp.open(path, 'rb')
size = f.stat().st_size
class Pending:  # _async_request keeps a weak reference to the object a reply is for
    pass


keep = Pending()
nums = [sftp._async_request(keep, CMD_READ, f.handle, long((i * CHUNK) % (size - CHUNK)), CHUNK) for i in range(n)]
print('sent', flush=True)
time.sleep(stall)
got = 0
total = 0
for _ in range(n):
    t_, data = sftp._read_packet()
    msg = paramiko.Message(data)
    msg.get_int()  # request id
    if t_ == CMD_DATA:
        total += len(msg.get_string())
        got += 1
print('drained', got, total, flush=True)
f.close()
t.close()
