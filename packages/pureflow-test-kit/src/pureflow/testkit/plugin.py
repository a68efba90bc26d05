"""The pytest plugin (entry point ``pytest11``) that registers Pureflow's fixtures."""
