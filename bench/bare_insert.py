"""The floor for bench/create_tickets.py: a bare Starlette + tortoise app that inserts one row.

`python bench/bare_insert.py --port P` serves `POST /api/v1/tickets` (the body is read
and one row holding its title is inserted; nothing is validated, routed or dispatched)
and `GET /healthz` on the database named by DATABASE_URL, with uvicorn like the project.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
from collections.abc import AsyncIterator

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from tortoise import Tortoise, fields
from tortoise.models import Model


class BareTicket(Model):
    """One inserted row per request."""

    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=200)

    class Meta:
        table = "bare_ticket"


async def create(request: Request) -> JSONResponse:
    """Insert one row and answer its id."""
    body = json.loads(await request.body())
    row = await BareTicket.create(title=str(body.get("title", ""))[:200])
    return JSONResponse({"number": f"bare-{row.id}", "status": "received"}, status_code=201)


async def healthz(request: Request) -> JSONResponse:
    """Ready once the lifespan has run."""
    return JSONResponse({"status": "ok"})


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    await Tortoise.init(
        db_url=os.environ["DATABASE_URL"],
        modules={"models": ["__main__"]},
        _enable_global_fallback=True,
    )
    await Tortoise.generate_schemas(safe=True)
    yield
    await Tortoise.close_connections()


app = Starlette(
    routes=[
        Route("/api/v1/tickets", create, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ],
    lifespan=lifespan,
)

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    print("Application startup complete", flush=True)  # what the runner waits for, as uvicorn says
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")
