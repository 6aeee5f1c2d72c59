#!/usr/bin/env python3
"""An SMTP server for the mail tests: stores each message it accepts as one file in a folder.

Usage: smtp_sink.py PORT FOLDER [--reply CODE] [--times N]
With --reply, DATA is answered with CODE (e.g. 451, 550) for the first N messages (every message
without --times), then accepted. Runs on 127.0.0.1 until killed; needs aiosmtpd.
"""
import argparse
import os
import threading

from aiosmtpd.controller import Controller

REPLIES = {4: "try again later", 5: "refused"}


class Sink:
    def __init__(self, folder, reply, times):
        self.folder, self.reply, self.times, self.count = folder, reply, times, 0

    async def handle_DATA(self, server, session, envelope):
        if self.reply and (self.times is None or self.times > 0):
            if self.times is not None:
                self.times -= 1
            return f"{self.reply} {REPLIES[self.reply // 100]}"
        self.count += 1
        name = os.path.join(self.folder, f"{self.count:04}.eml")
        with open(name + ".part", "wb") as out:
            out.write(envelope.original_content or envelope.content)
        os.rename(name + ".part", name)
        return "250 OK"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("folder")
    parser.add_argument("--reply", type=int)
    parser.add_argument("--times", type=int)
    args = parser.parse_args()
    os.makedirs(args.folder, exist_ok=True)
    sink = Sink(args.folder, args.reply, args.times)
    controller = Controller(sink, hostname="127.0.0.1", port=args.port)
    controller.start()
    threading.Event().wait()


if __name__ == "__main__":
    main()
