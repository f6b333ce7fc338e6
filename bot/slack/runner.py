"""Bolt's listener runner, resumed by the ack itself.

Bolt's `AsyncioListenerRunner` starts a listener as a task and then checks `ack.response` every 10 ms until it is
set: each request in flight wakes the event loop 100 times a second, and an ack waits up to 10 ms after
`ack()` was called. `AckResumedRunner` waits on the ack instead: `ResumingAck` resolves a future the moment its
`response` is set (by `ack()`, or by the runner's error path), the listener's end resolves it too (a listener that
never acks), and one timer gives up at the listener's `ack_timeout`, as Bolt does. Lazy listeners, FaaS mode
(`process_before_response`) and requests that came without a `ResumingAck` keep Bolt's own runner: the app puts
one in each request's context before its middleware runs (`BotApp.async_dispatch`).
"""

from __future__ import annotations

import asyncio
import copy
import time
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.listener.async_listener import AsyncListener
from slack_bolt.listener.asyncio_runner import AsyncioListenerRunner
from slack_bolt.logger.messages import warning_did_not_call_ack
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.core.waiting import settled_within


class ResumingAck(AsyncAck):
    """An `AsyncAck` whose `response`, once set, resolves `acked` on the running loop."""

    def __init__(self) -> None:
        self.acked: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        super().__init__()

    def __deepcopy__(self, memo: dict[int, Any]) -> AsyncAck:
        """A plain ack for the copy Bolt hands a lazy listener (a future cannot be copied)."""
        copied = AsyncAck()
        copied.response = copy.deepcopy(self._response, memo)
        return copied

    @property
    def response(self) -> BoltResponse | None:
        return self._response

    @response.setter
    def response(self, value: BoltResponse | None) -> None:
        self._response = value
        if value is not None and not self.acked.done():
            self.acked.set_result(None)


def _resolve(future: asyncio.Future[None], *_: Any) -> None:
    if not future.done():
        future.set_result(None)


class AckResumedRunner(AsyncioListenerRunner):
    """`AsyncioListenerRunner` that returns the ack as soon as it is set, without polling for it."""

    @classmethod
    def replacing(cls, runner: AsyncioListenerRunner) -> AckResumedRunner:
        return cls(
            logger=runner.logger,
            process_before_response=runner.process_before_response,
            listener_error_handler=runner.listener_error_handler,
            listener_start_handler=runner.listener_start_handler,
            listener_completion_handler=runner.listener_completion_handler,
            lazy_listener_runner=runner.lazy_listener_runner,
        )

    async def run(
        self,
        request: AsyncBoltRequest,
        response: BoltResponse,
        listener_name: str,
        listener: AsyncListener,
        starting_time: float | None = None,
    ) -> BoltResponse | None:
        ack = request.context.ack
        bolts_own = self.process_before_response or request.lazy_only or listener.lazy_functions
        if bolts_own or not isinstance(ack, ResumingAck) or ack.response is not None:
            return await super().run(request, response, listener_name, listener, starting_time)
        started = starting_time if starting_time is not None else time.time()
        if listener.auto_acknowledgement:
            await ack()
        task = asyncio.ensure_future(self._run_listener(ack, request, response, listener))
        if ack.response is None:
            task.add_done_callback(lambda _: _resolve(ack.acked))  # a listener that ends without acking
            await settled_within(ack.acked, max(0.0, listener.ack_timeout - (time.time() - started)))
        if ack.response is None:
            self.logger.warning(warning_did_not_call_ack(listener_name))
            return None
        self._debug_log_completion(started, ack.response)
        return ack.response

    async def _run_listener(
        self, ack: ResumingAck, request: AsyncBoltRequest, response: BoltResponse | None, listener: AsyncListener
    ) -> None:
        """Bolt's listener task: start handler, the listener, the error handler on failure (which answers 500
        when the listener had not acked yet), the completion handler."""
        try:
            await self.listener_start_handler.handle(request=request, response=response)
            await listener.run_ack_function(request=request, response=response)  # type: ignore[arg-type]
        except Exception as e:
            if response is None:
                response = BoltResponse(status=500)
            response.status = 500
            if ack.response is not None:  # already acknowledged: the error handler gets no response to change
                response = None
            await self.listener_error_handler.handle(error=e, request=request, response=response)
            ack.response = response
        finally:
            await self.listener_completion_handler.handle(request=request, response=response)
