"""`calmirror demo`: the real daemon against the embedded emulator, its story told in words."""

from calmirror.demo.session import run_demo

__all__ = ["run_demo"]
