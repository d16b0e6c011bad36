"""AsyncSSH's SFTP client against an SFTP server (issue 13 §2): put and get each of LOCAL/{zero,one,big},
then mkdir/rename/symlink/readlink/chmod/stat/listdir/statvfs/remove/rmdir/realpath; prints what it
saw as one JSON line (the test compares bytes on disk).
usage: sftp-asyncssh.py PORT KEY LOCAL"""
import asyncio, json, os, sys
import asyncssh

port, key, local = int(sys.argv[1]), sys.argv[2], sys.argv[3]


async def main():
    out = {}
    async with asyncssh.connect('127.0.0.1', port, username='alice', client_keys=[key], known_hosts=None) as conn:
        async with conn.start_sftp_client() as s:
            for n in ('zero', 'one', 'big'):
                await s.put(os.path.join(local, n), 'as-' + n)
                await s.get('as-' + n, os.path.join(local, 'as-back-' + n))
            await s.mkdir('asdir')
            await s.rename('as-one', 'asdir/one')
            await s.symlink('one', 'asdir/ln')
            out['readlink'] = await s.readlink('asdir/ln')
            async with s.open('asdir/ln', 'rb') as f:
                out['via_link'] = (await f.read()).hex()
            await s.chmod('asdir/one', 0o640)
            out['mode'] = (await s.stat('asdir/one')).permissions & 0o777
            out['list'] = sorted(n for n in await s.listdir('asdir') if n not in ('.', '..'))
            out['statvfs_bsize'] = (await s.statvfs('.')).bsize
            await s.remove('asdir/ln')
            await s.remove('asdir/one')
            await s.rmdir('asdir')
            out['realpath'] = await s.realpath('../..')
    print(json.dumps(out))


asyncio.run(main())
