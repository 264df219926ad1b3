#!/usr/bin/env python3
"""Prints a free TCP port on localhost (Bochs cannot reuse one in TIME_WAIT)."""
import socket

with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
