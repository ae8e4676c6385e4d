"""Asking for warm-ups where the change happens.

A service that changes what the next reasons prompt is made of (the profile, the watched list,
the cards' feedback, a page shown, a rewritten persona) calls :func:`request_reasons_warm_up`;
the warm-up itself (:func:`cinerec.services.recommend.warm_reasons`) runs after the answer has
gone out (:meth:`cinerec.services.platform.Platform.run_deferred`), never inside the request.
"""

from __future__ import annotations

from cinerec.services.platform import Platform


def request_reasons_warm_up(platform: Platform, *, user_id: int) -> None:
    """Warm this user's reasons prompt after the current request (one pending warm-up per
    user; nothing when ``prefill_reasons`` is off)."""
    if not platform.settings.prefill_reasons:
        return
    platform.state.deferred.add(f"warm_reasons:{user_id}", lambda: _warm_reasons(platform, user_id))


def _warm_reasons(platform: Platform, user_id: int) -> None:
    # Imported here: recommend imports feedback, which asks for warm-ups through this module.
    from cinerec.services.recommend import warm_reasons

    warm_reasons(platform, user_id=user_id)
