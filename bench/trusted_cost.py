"""What resolving trusted documents costs a request (hub/trusted.py), in process, once the cache is warm.

    python -m bench.trusted_cost [--calls 200000]

Times `TrustedDocuments.resolve` for the requests every /graphql POST brings (hub/app.py
calls it once): a text in `apq` mode, a hash alone in `apq` mode, and a
text in `only` mode (its SHA-256 looked up), for a short query and one of 2,000 characters.
Prints microseconds per call (best of five runs).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import tempfile
import time
from pathlib import Path

from hub.store import documents, open_store
from hub.trusted import TrustedDocuments

SHORT = "query Regions { regions { code name } }"
LONG = "query Long { " + " ".join(f"a{n}: __typename" for n in range(150)) + " }"


async def main(calls: int) -> None:
    with tempfile.TemporaryDirectory() as work:
        store = await open_store(f"sqlite+aiosqlite:///{Path(work) / 'store.db'}", migrate=True)
        try:
            texts = {"short": SHORT, "2,000 chars": LONG[:2000]}
            await documents.add(store, [documents.Document(hashlib.sha256(t.encode()).hexdigest(), t, (), "bench")
                                        for t in texts.values()])
            apq, only = TrustedDocuments(store, "apq", 3600, 20_000), TrustedDocuments(store, "only", 3600, 20_000)
            print(f"{'case':<28}{'short µs':>10}{'2,000 chars µs':>16}")
            for label, trusted, with_text, with_hash in (("text, apq", apq, True, False), ("hash alone, apq", apq, False, True),
                                                         ("text, only", only, True, False)):
                row = []
                for text in texts.values():
                    extensions = {"persistedQuery": {"version": 1, "sha256Hash": hashlib.sha256(text.encode()).hexdigest()}}
                    query, ext = (text if with_text else None), (extensions if with_hash else None)
                    await trusted.resolve(query, ext)  # warm the cache
                    best = float("inf")
                    for _ in range(5):
                        started = time.perf_counter()
                        for _ in range(calls):
                            await trusted.resolve(query, ext)
                        best = min(best, time.perf_counter() - started)
                    row.append(best / calls * 1e6)
                print(f"{label:<28}{row[0]:>10.2f}{row[1]:>16.2f}")
        finally:
            await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=200_000)
    asyncio.run(main(parser.parse_args().calls))
