import sys

from shapecnn.cli import main

sys.exit(main())
