"""The emulator's calendar logic: pure, synchronous `(store, request) -> response` handlers and the store."""
