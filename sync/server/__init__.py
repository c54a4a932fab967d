"""The reference national API server (training mode, demos, tests), with fault knobs."""
