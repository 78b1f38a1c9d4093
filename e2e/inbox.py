"""Reads sign-in codes from the SMTP sink's inbox, and signs in through the e-mail flow.

    python e2e/inbox.py token BASE_URL INBOX_DIR EMAIL   # prints an access token

Only the real flow is used: POST /v1/auth/otp, the code from the e-mail,
POST /v1/auth/token.
"""

import email
import email.policy
import glob
import json
import os
import re
import sys
import time
import urllib.request

SUBJECT = "Your Tally sign-in code"
CODE_LINE = re.compile(r"^\s*(\d{6})\s*$", re.MULTILINE)


def read_code(inbox, address, after=0, timeout=15.0):
    """The code of the first message to `address` numbered above `after`.

    Returns (code, message number). Fails after `timeout` seconds.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in sorted(glob.glob(os.path.join(inbox, "*.eml"))):
            n = int(os.path.basename(path).split(".")[0])
            if n <= after:
                continue
            with open(path, "rb") as f:
                msg = email.message_from_binary_file(f, policy=email.policy.default)
            if msg["Subject"] != SUBJECT or address.lower() not in str(msg["To"]).lower():
                continue
            body = msg.get_body(preferencelist=("plain",))
            found = CODE_LINE.findall(body.get_content() if body else "")
            if len(found) != 1:
                raise AssertionError(f"message {path}: expected one 6-digit line, found {found}")
            return found[0], n
        time.sleep(0.1)
    raise TimeoutError(f"no sign-in e-mail for {address} in {inbox} within {timeout}s")


def last_message(inbox):
    """The number of the newest message in the inbox (0 if none)."""
    names = glob.glob(os.path.join(inbox, "*.eml"))
    return max((int(os.path.basename(p).split(".")[0]) for p in names), default=0)


def post(base, path, body):
    req = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=15) as resp:
        return resp.status, json.loads(resp.read() or b"null")


def token(base, inbox, address):
    before = last_message(inbox)
    status, _ = post(base, "/v1/auth/otp", {"email": address})
    assert status == 202, f"POST /v1/auth/otp: {status}"
    code, _ = read_code(inbox, address, after=before)
    status, body = post(base, "/v1/auth/token", {"email": address, "code": code})
    assert status == 200 and body["token_type"] == "Bearer", f"POST /v1/auth/token: {status} {body}"
    return body["access_token"]


if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] != "token":
        sys.exit(__doc__)
    print(token(sys.argv[2], sys.argv[3], sys.argv[4]))
