"""The runner and the worker close the transports they hold: at the end, and when SIGTERM stops the worker."""

from __future__ import annotations

import os
import signal
import threading
import time

from sqlalchemy import Engine

from newsletter import services
from newsletter.audience.readers.tokens import TokenSigner
from newsletter.config import load_settings
from newsletter.deliver.engine.claims import worker_identity
from newsletter.deliver.engine.run import SendRunner
from newsletter.deliver.transports.base import Transport
from newsletter.deliver.transports.memory import MemoryTransport
from newsletter.worker import Worker


def test_closing_a_runner_closes_its_transport_and_each_it_built(
    engine: Engine, database_url: str, signer: TokenSigner
) -> None:
    own = MemoryTransport()
    built: list[MemoryTransport] = []

    def build(name: str) -> Transport:
        built.append(MemoryTransport())
        return built[-1]

    with services.build(load_settings(database_url=database_url)) as svc:
        runner = SendRunner(svc.sessions, own, signer, worker_identity(), transports=build)
        assert runner.transport_for("smtp") is runner.transport_for("smtp")
        runner.close()
        assert (own.closed, [t.closed for t in built]) == (1, [1])
        runner.transport_for("smtp")  # a closed runner builds afresh when used again
        assert len(built) == 2


def test_sigterm_stops_the_worker_and_closes_its_transport(
    engine: Engine, database_url: str, signer: TokenSigner
) -> None:
    transport = MemoryTransport()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    with services.build(load_settings(database_url=database_url)) as svc:
        runner = SendRunner(svc.sessions, transport, signer, worker_identity())
        worker = Worker(svc, runner, poll_seconds=60)
        worker.install_signal_handlers()
        term = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGTERM))
        guard = threading.Timer(20, worker.stop)  # should SIGTERM not stop it, fail rather than hang
        term.start()
        guard.start()
        started = time.monotonic()
        try:
            worker.serve()
        finally:
            term.cancel()
            guard.cancel()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    assert time.monotonic() - started < 15
    assert transport.closed == 1
