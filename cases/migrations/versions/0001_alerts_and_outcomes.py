"""alerts (worklist entries) and outcomes (visit results with history)

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("alert_id", sa.String(64), primary_key=True),
        sa.Column("household_id", sa.String(64), nullable=False),
        sa.Column("county", sa.String(128)),
        sa.Column("village", sa.String(128)),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("rank", sa.Integer),
        sa.Column("risk", sa.Float),
        sa.Column("tier", sa.String(32)),
        sa.Column("reasons", sa.Text),
        sa.Column("model_version", sa.String(128)),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("check_by", sa.Date),
        sa.Column("decide_by", sa.Date),
        sa.Column("audit_seed", sa.Integer),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_alerts_household_id", "alerts", ["household_id"])
    op.create_index("ix_alerts_village", "alerts", ["village"])
    op.create_index("ix_alerts_channel", "alerts", ["channel"])
    op.create_index("ix_alerts_as_of", "alerts", ["as_of"])
    op.create_table(
        "outcomes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("alert_id", sa.String(64), sa.ForeignKey("alerts.alert_id", ondelete="RESTRICT"),
                  nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("household_id", sa.String(64), nullable=False),
        sa.Column("visit_date", sa.Date, nullable=False),
        sa.Column("verifier_id", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("risk_types", sa.String(256), nullable=False),
        sa.Column("override_reason", sa.String(256), nullable=False),
        sa.Column("decision_date", sa.Date),
        sa.Column("measures", sa.String(256), nullable=False),
        sa.Column("measures_date", sa.Date),
        sa.Column("risk_eliminated_date", sa.Date),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("source", sa.String(256)),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("alert_id", "seq", name="uq_outcomes_alert_seq"),
    )
    op.create_index("ix_outcomes_alert_digest", "outcomes", ["alert_id", "digest"])
    op.create_index("ix_outcomes_verifier_id", "outcomes", ["verifier_id"])


def downgrade() -> None:
    op.drop_index("ix_outcomes_verifier_id", table_name="outcomes")
    op.drop_index("ix_outcomes_alert_digest", table_name="outcomes")
    op.drop_table("outcomes")
    for name in ("as_of", "channel", "village", "household_id"):
        op.drop_index(f"ix_alerts_{name}", table_name="alerts")
    op.drop_table("alerts")
