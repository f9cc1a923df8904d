"""python -m xlperf: the same as the xlperf command."""
from xlperf.safepath import drop_working_folder  # the package's own module: found before the clean-up safely

drop_working_folder()  # before anything else is imported

from xlperf.entry import main  # noqa: E402  (after the sys.path clean-up, on purpose)

if __name__ == "__main__":
    main()
