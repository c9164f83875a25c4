"""A serving process's routing, watched from outside: it loads the table (which starts its
listener), says `ready` once it listens, then prints, with the system's monotonic clock, each
change of what one host routes to. Run by tests/tenants/test_routing_listener.py."""

from __future__ import annotations

import sys
import time

import django

django.setup()

from tenants import routing  # noqa: E402  (after setup)


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main() -> None:
    host, seconds = sys.argv[1], float(sys.argv[2])
    routing.current_table()
    if not routing.listener_ready(15):
        say("not listening")
        return
    say("ready")
    last = None
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        route = routing.route_for_host(host)
        state = f"{route.slug}:{route.status}" if route else "-"
        if state != last:
            say(f"{time.monotonic():.3f} {state}")
            last = state
        time.sleep(0.01)


if __name__ == "__main__":
    main()
