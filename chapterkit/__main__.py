"""Allow ``python -m chapterkit``; the entry module quiets Ctrl-C before anything else loads."""
from chapterkit._entry import main

main()
