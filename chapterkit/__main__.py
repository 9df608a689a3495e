"""Allow ``python -m chapterkit``."""
from chapterkit.cli import main

main()
