"""The process harness itself: an emulator with many accounts starts (its JSON line outgrows 64 KiB)."""

from __future__ import annotations

from harness.processes import start_emulator_process


async def test_an_emulator_with_400_accounts_starts_and_names_them_all() -> None:
    accounts = [f"user{i:03d}@example.com" for i in range(400)]
    emulator = await start_emulator_process(accounts)
    try:
        assert sorted(emulator.accounts) == accounts
    finally:
        assert await emulator.stop() == 0
