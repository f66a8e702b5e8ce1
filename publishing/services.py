"""Business logic of the publishing app (plain functions; see STYLE.md)."""


def publish_target(target_id: int) -> None:
    raise NotImplementedError("publishing lands with the publishing issue")
