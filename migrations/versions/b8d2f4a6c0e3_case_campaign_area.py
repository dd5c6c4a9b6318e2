"""cases: campaign area (专项整治领域) and responsible industry department, for the 两个清单

Revision ID: b8d2f4a6c0e3
Revises: b7d2e4f6a8c1
Create Date: 2026-12-07 14:40:00

Existing hazard cases get an area derived from their registration (the first
``task_completed`` event of ``register_hazard``): 危险化学品生产经营 → 石油化工企业, a site
category 人员密集场所 → 人员密集场所, anything else → 其他 (docs/reports.md). The mapping is
written out here, not read from bpmn/campaign_areas.json, so the migration gives the same
result whatever the catalogue says later. No department is guessed: it stays empty.
"""

import json

import sqlalchemy as sa
from alembic import op


revision = "b8d2f4a6c0e3"
down_revision = "b7d2e4f6a8c1"
branch_labels = None
depends_on = None


def default_area(form):
    """The campaign area of a registration form filled before areas existed."""
    if form.get("industry") == "hazardous_chemicals":
        return "petrochemical"
    if "crowded" in (form.get("site_categories") or []):
        return "crowded_places"
    return "other"


def upgrade():
    op.add_column("case", sa.Column("campaign_area", sa.String(length=40), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE \"case\" ADD COLUMN responsible_department_id INTEGER "
            "REFERENCES agency (id)"
        )
    else:
        op.add_column(
            "case", sa.Column("responsible_department_id", sa.Integer(), nullable=True)
        )
        op.create_foreign_key(
            "fk_case_responsible_department_id_agency",
            "case",
            "agency",
            ["responsible_department_id"],
            ["id"],
        )
    op.create_index("ix_case_campaign_area", "case", ["campaign_area"])
    op.create_index("ix_case_responsible_department_id", "case", ["responsible_department_id"])

    bind = op.get_bind()
    case = sa.table(
        "case", sa.column("id", sa.Integer), sa.column("process_id", sa.String),
        sa.column("campaign_area", sa.String),
    )  # fmt: skip
    event = sa.table(
        "event", sa.column("id", sa.Integer), sa.column("case_id", sa.Integer),
        sa.column("kind", sa.String), sa.column("task_name", sa.String),
        sa.column("data", sa.JSON),
    )  # fmt: skip
    hazard_ids = bind.execute(
        sa.select(case.c.id).where(case.c.process_id == "major_hazard")
    ).scalars()
    for case_id in list(hazard_ids):
        data = bind.execute(
            sa.select(event.c.data)
            .where(
                event.c.case_id == case_id,
                event.c.kind == "task_completed",
                event.c.task_name == "register_hazard",
            )
            .order_by(event.c.id)
            .limit(1)
        ).scalar()
        if isinstance(data, str):
            data = json.loads(data)
        form = (data or {}).get("form") or {}
        bind.execute(
            case.update()
            .where(case.c.id == case_id)
            .values(campaign_area=default_area(form))
        )


def downgrade():
    op.drop_index("ix_case_responsible_department_id", table_name="case")
    op.drop_index("ix_case_campaign_area", table_name="case")
    with op.batch_alter_table("case") as batch:
        batch.drop_column("responsible_department_id")
        batch.drop_column("campaign_area")
