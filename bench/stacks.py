"""Summarise py-spy's raw samples (collapsed stacks, `--format raw`): the functions that were on
the stack in the largest share of samples (inclusive), optionally only within stacks that pass
through a given function, and leaving out the eventlet hub's idle waits.

    .venv/bin/python bench/stacks.py DIR/members-0-register.txt [--within register_member]
        [--top 40] [--self]
"""
import argparse
import re
from collections import Counter

IDLE = ("wait (eventlet/hubs", "epoll", "poll (eventlet/hubs/poll.py", "_wait_for (", "sleep (eventlet")


def frames_of(line: str) -> tuple[list[str], int]:
    stack, _, count = line.rstrip("\n").rpartition(" ")
    return stack.split(";"), int(count)


def short(frame: str) -> str:
    # "function (path/to/file.py:123)" -> "function (file.py)"
    match = re.match(r"(.*?) \((?:.*/)?([^/:]+\.py)(?::\d+)?\)", frame)
    return f"{match.group(1)} ({match.group(2)})" if match else frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("file")
    parser.add_argument("--within", help="only stacks with a frame whose function contains this")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--self", action="store_true", help="count the innermost frame only")
    parser.add_argument("--keep-idle", action="store_true")
    args = parser.parse_args()
    inclusive, total = Counter(), 0
    with open(args.file) as handle:
        for line in handle:
            if not line.strip():
                continue
            frames, count = frames_of(line)
            if not args.keep_idle and any(mark in frames[-1] for mark in IDLE):
                continue
            if args.within:
                at = next((i for i, f in enumerate(frames) if args.within in f.split(" (")[0]), None)
                if at is None:
                    continue
                frames = frames[at:]
            total += count
            names = [short(frames[-1])] if args.self else {short(f) for f in frames}
            for name in names:
                inclusive[name] += count
    print(f"{total} samples{' within ' + args.within if args.within else ''} (idle waits "
          f"{'kept' if args.keep_idle else 'left out'})")
    for name, count in inclusive.most_common(args.top):
        print(f"{100 * count / max(total, 1):5.1f}%  {name}")


if __name__ == "__main__":
    main()
