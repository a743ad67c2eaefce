"""Issue tracking: issues per phase, the project backlog, and the runs' cleanup thresholds.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("issue_cleanup_after_runs", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("issue_cleanup_after_tiers", sa.Integer(), nullable=True))
    op.create_table(
        "phase_issues",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=128), nullable=False),
        sa.Column("tier_id", sa.String(length=128), nullable=False),
        sa.Column("phase_id", sa.String(length=128), nullable=False),
        sa.Column("issue_key", sa.String(length=255), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("file", sa.Text(), nullable=True),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.id"],
            name=op.f("fk_phase_issues_run_id_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phase_issues")),
        sa.UniqueConstraint(
            "run_id",
            "phase_id",
            "issue_key",
            name=op.f("uq_phase_issues_run_id_phase_id_issue_key"),
        ),
    )
    op.create_index(
        "ix_phase_issues_issue_key_last_seen",
        "phase_issues",
        ["issue_key", "last_seen"],
        unique=False,
    )
    op.create_table(
        "issue_backlog",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("issue_key", sa.String(length=255), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("file", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("cleanup_after_runs", sa.Integer(), nullable=False),
        sa.Column("cleanup_after_tiers", sa.Integer(), nullable=False),
        sa.Column("reopened", sa.Integer(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by_run", sa.String(length=128), nullable=True),
        sa.Column("last_run_id", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issue_backlog")),
        sa.UniqueConstraint("issue_key", name=op.f("uq_issue_backlog_issue_key")),
    )
    op.create_index("ix_issue_backlog_status", "issue_backlog", ["status"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_issue_backlog_status", table_name="issue_backlog")
    op.drop_table("issue_backlog")
    op.drop_index("ix_phase_issues_issue_key_last_seen", table_name="phase_issues")
    op.drop_table("phase_issues")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("issue_cleanup_after_tiers")
        batch.drop_column("issue_cleanup_after_runs")
