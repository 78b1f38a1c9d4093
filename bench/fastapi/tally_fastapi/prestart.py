"""`python -m tally_fastapi.prestart`: creates the schema once, before uvicorn
starts its workers, as the FastAPI project template's prestart step runs its
migrations. The workers then start without touching the database, so one
worker's startup can never fail on another's lock; uvicorn stops every worker
when one fails to start."""

import asyncio

from . import config
from .db import Database


async def main():
    db = Database(config.load())
    try:
        await db.create_schema()
    finally:
        await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
