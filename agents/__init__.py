"""The pipeline's Faust agents, one stage a module: fingerprint -> plays -> sink."""
