"""python -m xlperf: the same as the xlperf command."""
from .entry import main

if __name__ == "__main__":
    main()
