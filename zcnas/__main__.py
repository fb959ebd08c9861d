import sys

from zcnas.cli import main

sys.exit(main())
