"""A bare FastAPI app: the ceiling the read benchmark compares Tenure against."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/ping")
async def ping() -> dict[str, bool]:
    return {"ok": True}
