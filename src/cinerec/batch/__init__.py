"""Batch work on Ray: review scoring and summaries, catalog embeddings, evaluation grids.

A services-level room: it uses :mod:`cinerec.services` and the models, and the CLI
(``cinerec batch …``) calls it; the web never does. Every job splits its work into shards, runs
one Ray task per shard with at most ``workers`` running at once, and gathers the results in the
driver, which stores them exactly where the in-process code stores them. The same code runs on
a local cluster that ``ray.init`` starts (``num_cpus=workers``) and, with ``address``, on a
running multi-node cluster (``ray://head:10001`` or ``auto``), whose nodes need cinerec and its
data directory installed the same way.

Example:
    >>> from cinerec.batch.cluster import ClusterConfig
    >>> ClusterConfig(workers=2).describe()
    'local Ray cluster, 2 workers'
"""
