"""Google client layer: the only code that imports googleapiclient."""
