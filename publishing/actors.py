import dramatiq

from unipulse.jobs import QUEUE_POLICY, run_platform_job


@dramatiq.actor(queue_name="publish", **QUEUE_POLICY["publish"])
def publish(target_id: int) -> None:
    """Advance one PostTarget through prepare -> poll -> commit (publishing.services.engine.publish_target)."""
    from . import services

    run_platform_job(publish, (target_id,), services.publish_target)
