"""A stateful in-memory Google Calendar v3 + OAuth emulator that the real Google clients talk to."""

from calmirror.emulator.app import Emulator, EmulatorState, start_emulator
from calmirror.emulator.oauth import AccountCredentials

__all__ = ["AccountCredentials", "Emulator", "EmulatorState", "start_emulator"]
