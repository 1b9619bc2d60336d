"""`python -m graphmem`: the same as the `graphmem` command."""
import sys

from .cli import main

sys.exit(main())
