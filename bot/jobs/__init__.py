"""Work done after commit: the job queue (rq or in-process), the job runner, sending messages at
most once, and the transport that hands them to Twilio."""


def run_outbox(outbox_id: int) -> None:
    """The job's name before bot/ had rooms: rq jobs queued by an older release still run."""
    from bot.jobs.runner import run_outbox as run

    run(outbox_id)
