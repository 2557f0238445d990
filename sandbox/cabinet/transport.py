"""A uvicorn HTTP/1.1 protocol whose connection the app can drop on purpose (the ``p_drop_*`` knobs).

ASGI gives an app no way to close its connection: if it returns without a response, uvicorn answers
500 itself. This subclass of uvicorn's h11 protocol puts an async ``drop()`` into every request's
scope (under ``DROP_KEY``). ``drop()`` closes the transport and waits until uvicorn has seen the
connection go, so uvicorn then neither sends its 500 nor logs an error.
"""

from __future__ import annotations

import asyncio
import functools

from uvicorn.protocols.http.h11_impl import H11Protocol

DROP_KEY = "sandbox.drop"
_LOST_TIMEOUT_S = 2.0


async def _with_drop(app, drop, scope, receive, send):
    scope[DROP_KEY] = drop
    await app(scope, receive, send)


class DroppableH11Protocol(H11Protocol):
    def connection_made(self, transport):  # noqa: D102 - asyncio.Protocol API
        super().connection_made(transport)
        self._lost = asyncio.Event()
        # One partial per connection (not per request): requests pay nothing for the feature.
        self.app = functools.partial(_with_drop, self.config.loaded_app, self.drop)

    def connection_lost(self, exc):  # noqa: D102
        super().connection_lost(exc)
        self._lost.set()

    async def drop(self) -> None:
        if self.scheme == "https":
            # TLS close() waits for the peer's close_notify; abort() goes now (nothing to flush
            # that the client could use anyway).
            self.transport.abort()
        else:
            # close() flushes what was written (headers, half a body), then FIN: the client reads
            # an incomplete message rather than a reset.
            self.transport.close()
        try:
            await asyncio.wait_for(self._lost.wait(), _LOST_TIMEOUT_S)
        except asyncio.TimeoutError:
            self.transport.abort()
            await asyncio.sleep(0)
