"""Multi-hop QA over passage retrievers: index building with caching, evaluation, answering."""
