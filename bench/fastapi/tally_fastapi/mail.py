"""The sign-in e-mail over SMTP (aiosmtplib): subject `Your Tally sign-in
code`, the code alone on a line of a text/plain body, as Tally sends it."""

from email.message import EmailMessage

import aiosmtplib

SUBJECT = "Your Tally sign-in code"


class Mailer:
    def __init__(self, settings):
        self.s = settings

    async def send_code(self, to: str, code: str) -> None:
        message = EmailMessage()
        message["From"] = self.s.mail_from
        message["To"] = to
        message["Subject"] = SUBJECT
        message.set_content(
            f"Your Tally sign-in code is:\r\n\r\n{code}\r\n\r\n"
            "It expires in 10 minutes and works once. If you did not ask for it, ignore this e-mail.\r\n"
        )
        await aiosmtplib.send(
            message,
            hostname=self.s.smtp_host,
            port=self.s.smtp_port,
            username=self.s.smtp_user,
            password=self.s.smtp_password,
            use_tls=self.s.smtp_tls == "implicit",
            start_tls=True if self.s.smtp_tls == "starttls" else False,
            timeout=10,
        )
