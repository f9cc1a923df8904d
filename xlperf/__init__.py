"""xlperf: generate, validate and consolidate 项目绩效目标表 workbooks."""
__version__ = "0.1.0"
