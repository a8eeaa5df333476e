"""The pipeline's logic: settings, partitions, HDFS health and upload, validation, reports.

The DAG file only wires these together; everything here is importable and unit-tested.
"""
