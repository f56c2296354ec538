"""Support shared by the tests and the benchmarks: the emulator and the daemon as real processes."""
