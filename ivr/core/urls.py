"""The absolute URLs Twilio calls back on, built from PUBLIC_BASE_URL; the app's services carry one."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode


@dataclass(frozen=True)
class Urls:
    """The absolute URLs Twilio must call back, built from PUBLIC_BASE_URL."""

    base: str

    def step(self, node: str, state: str = "", **extra: str) -> str:
        """The next menu step; `state` is the call's state token (ivr/voice/state_token.py), if it travels."""
        return f"{self.base}/voice/step?{urlencode({'node': node, **extra, **_carried(state)})}"

    def recorded(self, node: str, state: str = "") -> str:
        return f"{self.base}/voice/recorded?{urlencode({'node': node, **_carried(state)})}"

    def spoken(self, node: str, state: str = "") -> str:
        """Where a spoken menu choice's <Record> goes (ivr/voice/spoken.py)."""
        return f"{self.base}/voice/spoken?{urlencode({'node': node, **_carried(state)})}"

    def recording_status(self) -> str:
        return f"{self.base}/voice/recording-status"


def _carried(state: str) -> dict[str, str]:
    return {"s": state} if state else {}
