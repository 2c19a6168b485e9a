"""Known truth for measuring the duplicate matcher: FEBRL pair metrics and a synthetic base.

Benchmark and test support, not product code: Tenure itself never reads the FEBRL
benchmark files. Benchmarks import it as ``dedup_truth`` (bench/ is on their path), tests as
``bench.dedup_truth``.
"""
