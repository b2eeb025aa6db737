"""python -m synth DIR: write the demo catalog (DIR/catalog) and broadcast (DIR/broadcast.flac)."""
import sys
from pathlib import Path

from synth.broadcast import demo_broadcast, write_broadcast, write_catalog

out = Path(sys.argv[1] if len(sys.argv) > 1 else "demo-output")
write_catalog(out / "catalog", 5)
samples, truth = demo_broadcast([1, 3, 5])
write_broadcast(out / "broadcast.flac", samples)
for play in truth:
    print(f"aired {play.ref} from {play.start_s:.1f} s to {play.end_s:.1f} s")
