"""One database on a Bolt server, as the Bolt store talks to it: every call is one explicit
transaction, retried as a whole on transient errors (a bounded number of times, for a bounded
while), and every failure leaves as a StoreError that names the server and what was being done."""
from __future__ import annotations

import logging
import os
from typing import Any, Callable, Mapping, TypeVar

from neo4j import READ_ACCESS, WRITE_ACCESS, GraphDatabase
from neo4j.exceptions import DriverError
from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
)

from .base import CypherError, StoreError
from .bolt_errors import retryable, translate

log = logging.getLogger(__name__)
T = TypeVar("T")


class BoltConnection:
    """A driver for one database. Arguments default to the NEO4J_* environment variables; the
    server is reached once on creation, so a wrong address or password fails there."""

    def __init__(self, uri: str | None, user: str | None, password: str | None,
                 database: str | None, *, attempts: int, max_retry_s: float,
                 connect_timeout_s: float) -> None:
        self.uri = uri or os.environ.get("NEO4J_URI") or "bolt://127.0.0.1:7687"
        self.user = user or os.environ.get("NEO4J_USER") or "neo4j"
        password = password if password is not None else os.environ.get("NEO4J_PASSWORD", "")
        self.database = database or os.environ.get("NEO4J_DATABASE") or None
        self._attempts = attempts
        self._max_retry_s = max_retry_s
        self.transactions = 0  # round trips to the server (retries not counted), for measuring
        try:
            self.driver = GraphDatabase.driver(
                self.uri, auth=(self.user, password),
                connection_timeout=connect_timeout_s,
                connection_acquisition_timeout=connect_timeout_s,
                max_transaction_retry_time=0,  # retries are ours (bounded, below)
            )
        except (ValueError, DriverError) as e:
            raise StoreError(f"Invalid Bolt URI {self.uri!r}: {e}. Use bolt://HOST:PORT or "
                             f"neo4j://HOST:PORT (NEO4J_URI).") from e
        try:
            self._retrying(self.driver.verify_connectivity)
        except BaseException:
            self.driver.close()
            raise

    @property
    def where(self) -> str:
        """The server, user and database, as error messages name them."""
        db = f", database {self.database!r}" if self.database else ""
        return f"{self.uri} (user {self.user!r}{db})"

    def _retrying(self, fn: Callable[[], T], doing: str = "connecting") -> T:
        retrying = Retrying(
            retry=retry_if_exception(retryable),
            stop=stop_after_attempt(self._attempts) | stop_after_delay(self._max_retry_s),
            wait=wait_exponential(multiplier=0.2, max=2.0),
            reraise=True,
        )
        try:
            return retrying(fn)
        except Exception as e:  # noqa: BLE001 - every failure leaves as a StoreError
            raise translate(e, self.where, self._attempts, doing) from e

    def transaction(self, work: Callable[[Any], T], *, write: bool, doing: str,
                    timeout: float | None = None) -> T:
        """Run ``work(tx)`` in one explicit transaction, retried as a whole on transient errors;
        ``timeout``: seconds the server may give it (a server may ignore it).

        Every write the store makes is idempotent (replace by id), so replaying a transaction whose
        commit outcome was unknown cannot duplicate anything.
        """
        mode = WRITE_ACCESS if write else READ_ACCESS
        self.transactions += 1

        def attempt() -> T:
            with self.driver.session(database=self.database, default_access_mode=mode) as session:
                with session.begin_transaction(timeout=timeout) as tx:
                    result = work(tx)
                    tx.commit()
                    return result

        return self._retrying(attempt, doing)

    def read(self, query: str, doing: str, **params: Any) -> list[dict]:
        return self.transaction(lambda tx: [r.data() for r in tx.run(query, params)], write=False,
                                doing=doing)

    def apply_schema(self, schema: Mapping[str, tuple[str, ...]]) -> dict[str, bool]:
        """Per feature, run the first of its statements the server accepts; returns which
        features the server has (a feature no statement gives is done without)."""
        features = {}
        for feature, statements in schema.items():
            features[feature] = False
            for statement in statements:
                try:
                    self.transaction(lambda tx: tx.run(statement).consume(), write=True,
                                     doing="creating indexes")
                except CypherError as e:
                    log.info("server refused %r: %s", statement, e)
                    continue
                features[feature] = True
                break
        return features

    def close(self) -> None:
        self.driver.close()
