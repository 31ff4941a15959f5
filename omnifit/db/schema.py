"""The one SQLAlchemy ``MetaData`` of the Omnifit database, which every room's tables hang off.

The cloud's tables (``cloud.storage.schema``), the money side of payments (``payments.storage``),
the face templates (``payments.face.store``) and the payments audit log (``payments.audit``) live
in one database built by one chain of Alembic migrations (``cloud/storage/migrations``), so they
share one model and one naming convention. A room that can also run on a database of its own
(the payments and face commands on a fresh file) creates only its own tables from it.
"""
from __future__ import annotations

import sqlalchemy as sa

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
