"""The ASGI application uvicorn imports (one per worker process)."""

from hotline.runtime.config import load_settings
from hotline.web.app import create_app

app = create_app(load_settings())
