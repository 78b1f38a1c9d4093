"""A real SMTP server on loopback that keeps every message it receives.

    python e2e/smtp_sink.py PORT INBOX_DIR

Each accepted message is written to INBOX_DIR/<n>.eml (atomically: written
to a temporary name, then renamed). Runs until SIGTERM or SIGINT.
"""

import os
import signal
import sys
import threading

from aiosmtpd.controller import Controller


class Store:
    def __init__(self, inbox):
        self.inbox = inbox
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            n = self.count
        tmp = os.path.join(self.inbox, f".{n}.tmp")
        with open(tmp, "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(tmp, os.path.join(self.inbox, f"{n:06d}.eml"))
        return "250 OK"


def main():
    port, inbox = int(sys.argv[1]), sys.argv[2]
    os.makedirs(inbox, exist_ok=True)
    controller = Controller(Store(inbox), hostname="127.0.0.1", port=port)
    controller.start()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    print(f"smtp sink listening on 127.0.0.1:{port}, inbox {inbox}", flush=True)
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
