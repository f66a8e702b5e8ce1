from unittest import mock

from unipulse import scheduler


def test_run_due_runs_each_installed_job_once_per_interval():
    calls = []
    with mock.patch.object(scheduler, "call_command", side_effect=lambda name: calls.append(name)):
        last = {}
        first = scheduler.run_due(last, now=10_000.0)
        again = scheduler.run_due(last, now=10_030.0)   # 30 s later: nothing is due
        later = scheduler.run_due(last, now=10_061.0)   # a minute later: only the every-minute job
    installed = [job.command for job in scheduler.available_jobs()]
    assert "refresh_tokens" in installed
    assert first == installed and calls[: len(installed)] == installed
    assert again == []
    assert later == (["publish_due"] if "publish_due" in installed else [])


def test_a_failing_command_does_not_stop_the_others():
    def flaky(name):
        if name == "refresh_tokens":
            raise RuntimeError("boom")

    with mock.patch.object(scheduler, "call_command", side_effect=flaky):
        ran = scheduler.run_due({}, now=0.0)
    assert "refresh_tokens" not in ran
    assert len(ran) == len(scheduler.available_jobs()) - 1


def test_every_job_has_a_cron_line_matching_its_interval():
    per_minute = {"*/2 * * * *": 120, "* * * * *": 60, "*/5 * * * *": 300, "*/15 * * * *": 900, "0 * * * *": 3600, "30 3 * * *": 86400}
    for job in scheduler.SCHEDULE:
        assert per_minute[job.cron] == job.every_seconds, job.command


def test_sandbox_activity_runs_only_with_the_sandbox_on(settings):
    settings.SOCIAL_SANDBOX = False
    assert "sandbox_activity" not in [j.command for j in scheduler.available_jobs()]
    settings.SOCIAL_SANDBOX = True
    assert "sandbox_activity" in [j.command for j in scheduler.available_jobs()]


def test_the_readme_crontab_lists_every_production_job_on_the_same_cadence():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for job in scheduler.SCHEDULE:
        if not job.sandbox_only:
            assert f"| `{job.cron}` | `python manage.py {job.command}" in readme, job.command
