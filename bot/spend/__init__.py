"""Spend: usage and cost answers, budgets and their alerts, the weekly digest, spend-limit increase requests."""
