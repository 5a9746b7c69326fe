"""The `mediaplane` command line: run the server and workers, and use the platform API like OSC's `osc`."""
