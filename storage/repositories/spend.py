"""Budgets and posted spend-limit increase requests."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from storage.models import Budget, SpendLimitRequestPost


def list_budget_rows(*, session: Session) -> list[Budget]:
    """Every budget row (the org's, with or without an amount, and the workspaces')."""
    return list(session.exec(select(Budget)).all())


def get_budget_row(*, session: Session, scope_key: str) -> Budget | None:
    """The budget row of a scope ("org" or "workspace:<id>"), if stored."""
    return session.exec(select(Budget).where(Budget.scope_key == scope_key)).first()


def spend_requests_in(*, session: Session, states: Sequence[str]) -> list[SpendLimitRequestPost]:
    """Posted increase requests in any of `states`."""
    return list(
        session.exec(select(SpendLimitRequestPost).where(col(SpendLimitRequestPost.state).in_(list(states)))).all()
    )
