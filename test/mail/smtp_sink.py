#!/usr/bin/env python3
"""test/mail/smtp_sink.py: a local SMTP server for the mailer's tests.

    python3 smtp_sink.py PORT MAILDIR [USER:PASSWORD]

Listens on 127.0.0.1:PORT (aiosmtpd) and writes each accepted message to
MAILDIR/NNNN.eml as received (envelope recipients in X-Envelope-To), then
replies 250.  With USER:PASSWORD it requires AUTH (PLAIN or LOGIN, without
TLS on this loopback test server).  Files in MAILDIR steer it, so a test can stop it mid-send:
  stall_rcpt: while it exists, RCPT TO is not answered (the message is
              never accepted: a client killed now has not sent the mail);
  stall_data: while it exists, the end of DATA is not answered, after the
              message was written (a client killed now sees no 250, and
              SMTP's own window for a duplicate opens).
"""
import asyncio
import os
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class Sink:
    def __init__(self, maildir):
        self.maildir = maildir
        self.count = len([f for f in os.listdir(maildir) if f.endswith('.eml')])

    async def _stall(self, name):
        while os.path.exists(os.path.join(self.maildir, name)):
            await asyncio.sleep(0.05)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        await self._stall('stall_rcpt')
        envelope.rcpt_tos.append(address)
        return '250 OK'

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        path = os.path.join(self.maildir, '%04d.eml' % self.count)
        with open(path + '.tmp', 'wb') as f:
            f.write(('X-Envelope-To: %s\r\n' % ', '.join(envelope.rcpt_tos)).encode())
            f.write(envelope.original_content)
        os.rename(path + '.tmp', path)
        await self._stall('stall_data')
        return '250 Message accepted for delivery'


def main():
    port, maildir = int(sys.argv[1]), sys.argv[2]
    os.makedirs(maildir, exist_ok=True)
    auth = {}
    if len(sys.argv) > 3:
        user, password = sys.argv[3].split(':', 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (auth_data.login.decode() == user and auth_data.password.decode() == password)
            return AuthResult(success=ok)
        auth = dict(authenticator=authenticator, auth_required=True, auth_require_tls=False)
    controller = Controller(Sink(maildir), hostname='127.0.0.1', port=port, **auth)
    controller.start()
    with open(os.path.join(maildir, 'ready'), 'w') as f:
        f.write(str(os.getpid()))
    try:
        asyncio.get_event_loop().run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == '__main__':
    main()
