"""Bodies of ``POST /runs/parallel`` and ``GET /runs/parallel/{batch_id}``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

BATCH_ID_PATTERN = r"^batch-[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$"


class ParallelStart(BaseModel):
    """Several plans to run at once, then land on ``target`` through the merge queue."""

    model_config = ConfigDict(extra="forbid")

    plans: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=32,
        description="Plans in any accepted shape; each becomes a run with its own branch.",
    )
    max_concurrent: int = Field(default=2, ge=1, le=32, description="Runs executing at once.")
    target: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Branch the succeeded runs land on (default: the branch checked out in "
        "the server's workspace repository).",
    )
    merge: bool = Field(default=True, description="False: run only, land nothing.")
    base: str = Field(
        default="HEAD",
        min_length=1,
        max_length=200,
        pattern=r"^[^-\s][^\s]*$",
        description="Ref every run's branch starts from.",
    )


class ParallelAccepted(BaseModel):
    """The batch was stored and handed to the server's workers."""

    model_config = ConfigDict(frozen=True)

    batch_id: str
    run_ids: list[str]
    queued: bool
    status: str = Field(description="Where to follow the batch.")


class BatchRunState(BaseModel):
    """Where one run of a batch stands."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    state: str
    phases_complete: int
    phase_count: int


class ParallelStatus(BaseModel):
    """A batch: its runs' states while it works; the consolidated report once it is done."""

    model_config = ConfigDict(frozen=True)

    batch_id: str
    finished: bool
    target: str | None
    runs: list[BatchRunState]
    report: dict[str, Any] | None = Field(
        default=None, description="The consolidated report (as report.json), once finished."
    )
