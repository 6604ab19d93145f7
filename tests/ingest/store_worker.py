"""A second process for the cross-process tests (fake embeddings, the test's data dir).

python -m tests.ingest.store_worker hold          # open the store, print READY, then serve
                                                  # stdin commands: count | query | add PDF | quit
python -m tests.ingest.store_worker ingest PDF    # ingest with the batch-pause test hook
"""

from __future__ import annotations

import sys

from ingest.pipeline import ingest_sources
from ingest.settings import IngestSettings
from ingest.store import open_store
from tests.ingest.fakes import FakeEmbeddings

SETTINGS = IngestSettings(chunk_size=300, chunk_overlap=50, batch_size=4)


def hold() -> int:
    with open_store(SETTINGS, FakeEmbeddings()) as store:
        print("READY", flush=True)
        for line in sys.stdin:
            command, _, arg = line.strip().partition(" ")
            if command == "count":
                print(f"COUNT {len(store.all_documents())}", flush=True)
            elif command == "query":
                hits = store.vectorstore.similarity_search(arg or "zebras", k=2)
                print(f"HITS {len(hits)}", flush=True)
            elif command == "add":
                report = ingest_sources([arg], store)
                print(f"ADDED {report.total('chunks_added')} {int(report.ok)}", flush=True)
            elif command == "quit":
                break
    return 0


def ingest(pdf: str) -> int:
    with open_store(SETTINGS, FakeEmbeddings()) as store:
        report = ingest_sources([pdf], store)
    print(report.summary(), flush=True)
    return 0 if report.ok else 1


if __name__ == "__main__":
    mode = sys.argv[1]
    raise SystemExit(hold() if mode == "hold" else ingest(sys.argv[2]))
