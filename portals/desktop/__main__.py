import sys

from portals.desktop.client import main

sys.exit(main())
