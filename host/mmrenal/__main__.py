import sys

from mmrenal.cli import main

sys.exit(main())
