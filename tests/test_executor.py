"""ZHENGGAI_EXECUTOR: the definitions run a step per process (bench/scale_out_demo.py) or per Docker container
(bench/docker_demo.py) when asked. `zhenggai refresh` runs in its own process whatever it says, with its
gate's early process: tests/test_early_gate.py."""

import os

import dagster as dg
import pytest
from dagster._core.definitions.job_base import InMemoryJob
from dagster._core.executor.init import InitExecutorContext

from orchestration.definitions import build_definitions
from orchestration.early_gate import PROCESS_SETTING
from orchestration.resources import (
    EXECUTOR_SETTING, docker_executor_config, executor_from_env, executor_setting, gate_from_env, written_folders,
)
from warehouse.lake import OBJECT_STORAGE_VARIABLES


@pytest.mark.parametrize("value, executor", [
    (None, dg.in_process_executor), ("", dg.in_process_executor), ("in_process", dg.in_process_executor),
    ("multiprocess", dg.multiprocess_executor), (" Multiprocess ", dg.multiprocess_executor),
])
def test_the_executor_comes_from_the_environment(monkeypatch, value, executor):
    if value is None:
        monkeypatch.delenv(EXECUTOR_SETTING, raising=False)
    else:
        monkeypatch.setenv(EXECUTOR_SETTING, value)
    assert executor_from_env() is executor


def test_an_unknown_executor_is_an_error(monkeypatch):
    monkeypatch.setenv(EXECUTOR_SETTING, "k8s")
    with pytest.raises(ValueError, match="ZHENGGAI_EXECUTOR must be one of in_process, multiprocess, docker, not 'k8s'"):
        executor_setting()


def test_the_refresh_job_takes_the_executor_of_the_environment(monkeypatch):
    monkeypatch.setenv(EXECUTOR_SETTING, "multiprocess")
    assert build_definitions().resolve_job_def("refresh").executor_def is dg.multiprocess_executor
    monkeypatch.delenv(EXECUTOR_SETTING)
    assert build_definitions().resolve_job_def("refresh").executor_def is dg.in_process_executor


@pytest.mark.parametrize("executor, forced, early", [
    ("in_process", None, None),  # started when the load patches
    ("multiprocess", None, False),  # staged_notices' process would start it, the gate's process would not use it
    ("multiprocess", "1", True),
    ("in_process", "0", False),
])
def test_the_early_gate_is_off_with_a_process_per_step_unless_forced(monkeypatch, executor, forced, early):
    monkeypatch.setenv(EXECUTOR_SETTING, executor)
    if forced is None:
        monkeypatch.delenv(PROCESS_SETTING, raising=False)
    else:
        monkeypatch.setenv(PROCESS_SETTING, forced)
    assert gate_from_env().early is early
    assert gate_from_env("in_process").early is (None if forced is None else forced == "1")  # the command line's


DOCKER_SETTINGS = {
    "ZHENGGAI_EXECUTOR": "docker", "ZHENGGAI_DOCKER_IMAGE": "zhenggai:demo", "DAGSTER_HOME": "/srv/dagster",
    "ZHENGGAI_SOURCE": "/srv/landing", "ZHENGGAI_WAREHOUSE": "/srv/published/zhenggai.duckdb",
    "ZHENGGAI_DOCKER_MOUNTS": "/srv/more/:/srv/landing", "AWS_REGION": "eu-west-1", "AWS_CA_BUNDLE": "/etc/ssl/certs/ca-certificates.crt",
    "HOME": "/root",
}


def test_each_docker_step_gets_the_image_the_settings_and_the_shared_folders_at_their_paths():
    config = docker_executor_config(DOCKER_SETTINGS)
    assert config["image"] == "zhenggai:demo"
    # the steps configure their resources from the same settings; nothing else of this process's environment
    assert config["env_vars"] == ["AWS_REGION", "DAGSTER_HOME", "ZHENGGAI_DOCKER_IMAGE", "ZHENGGAI_DOCKER_MOUNTS",
                                  "ZHENGGAI_EXECUTOR", "ZHENGGAI_SOURCE", "ZHENGGAI_WAREHOUSE"]  # not HOME, nor a host's file
    volumes = config["container_kwargs"]["volumes"]
    # each folder once, however written (Docker refuses a mount point twice)
    assert list(volumes) == ["/srv/landing", "/srv/published", "/srv/dagster", "/srv/more"]
    assert all(mount == {"bind": folder, "mode": "rw"} for folder, mount in volumes.items())
    # as the user who runs the job: the files written on the mounts are theirs, not the image's root's
    assert config["container_kwargs"]["user"] == f"{os.getuid()}:{os.getgid()}"


@pytest.mark.parametrize("setting, user", [("1001:1001", "1001:1001"), ("image", None)])
def test_the_docker_steps_user_can_be_set_or_left_to_the_image(setting, user):
    """`image` for rootless Docker or userns-remap, where the image's root is the invoking user already."""
    config = docker_executor_config(DOCKER_SETTINGS | {"ZHENGGAI_DOCKER_USER": setting})
    assert config["container_kwargs"].get("user") == user


def test_the_folders_the_steps_write_to():
    assert written_folders(DOCKER_SETTINGS | {"ZHENGGAI_LAKE_CATALOG": "ducklake:/srv/lake/meta.ducklake"}) == [
        "/srv/published", "/srv/dagster", "/srv/lake"]  # not the landing folder nor the extra mounts: inputs


def test_each_docker_step_mounts_a_lake_on_this_machine_and_uses_the_images_lake_environment():
    config = docker_executor_config(DOCKER_SETTINGS | {
        "ZHENGGAI_LAKE_CATALOG": "ducklake:/srv/lake/catalog.ducklake", "ZHENGGAI_LAKE_DATA_PATH": "/srv/lake/data/",
        "ZHENGGAI_LAKE_PYTHON": "/home/me/zhenggai/.venv-lake/bin/python",
    })
    assert list(config["container_kwargs"]["volumes"]) == [
        "/srv/landing", "/srv/published", "/srv/dagster", "/srv/lake", "/srv/lake/data", "/srv/more"]
    # this machine's interpreter is not the container's: the image has its own where the lake's resource looks
    assert "ZHENGGAI_LAKE_PYTHON" not in config["env_vars"]
    assert {"ZHENGGAI_LAKE_CATALOG", "ZHENGGAI_LAKE_DATA_PATH"} <= set(config["env_vars"])


def test_a_lake_on_a_server_or_in_a_bucket_needs_no_mount():
    config = docker_executor_config(DOCKER_SETTINGS | {
        "ZHENGGAI_LAKE_CATALOG": "ducklake:postgres:dbname=zhenggai host=db", "ZHENGGAI_LAKE_DATA_PATH": "s3://lake/data/",
    })
    assert list(config["container_kwargs"]["volumes"]) == ["/srv/landing", "/srv/published", "/srv/dagster", "/srv/more"]


def test_a_lake_given_by_a_relative_path_is_refused_for_containers():
    with pytest.raises(ValueError, match="ZHENGGAI_LAKE_CATALOG"):
        docker_executor_config(DOCKER_SETTINGS | {"ZHENGGAI_LAKE_CATALOG": "lake/catalog.duckdb"})


@pytest.mark.parametrize("missing, message", [
    ("ZHENGGAI_DOCKER_IMAGE", "needs ZHENGGAI_DOCKER_IMAGE"),
    ("DAGSTER_HOME", "needs DAGSTER_HOME"),
    ("ZHENGGAI_SOURCE", "needs absolute paths"),  # the default, seeds/, is relative to this process's folder
])
def test_the_docker_executor_refuses_what_its_containers_could_not_use(missing, message):
    with pytest.raises(ValueError, match=message):
        docker_executor_config({name: value for name, value in DOCKER_SETTINGS.items() if name != missing})


@pytest.mark.filterwarnings("ignore::dagster.BetaWarning")  # dagster-docker's executor is marked beta
def test_the_docker_setting_gives_dagster_dockers_executor_configured_when_a_run_starts(monkeypatch, tmp_path):
    for name in os.environ:  # only the settings below reach the containers
        if name.startswith("ZHENGGAI_") or name in OBJECT_STORAGE_VARIABLES:
            monkeypatch.delenv(name)
    # the folders under a temporary one: a run's start creates those missing
    settings = {name: value.replace("/srv", str(tmp_path)) for name, value in DOCKER_SETTINGS.items()}
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    executor = executor_from_env()
    assert executor.name == "docker"
    resolved = executor.config_schema.resolve_config({})
    assert resolved.success and resolved.value["config"] == {**docker_executor_config(settings),
                                                            "retries": {"enabled": {}}}
    assert not any(tmp_path.iterdir())  # checking a run's config creates nothing
    # a run's start creates the folders its steps write to, as this user, before a container mounts them (Docker
    # would create them as root); then dagster-docker's executor
    created = executor.executor_creation_fn(InitExecutorContext(
        job=InMemoryJob(build_definitions().resolve_job_def("refresh")), executor_def=executor,
        executor_config=resolved.value["config"], instance=dg.DagsterInstance.ephemeral()))
    assert type(created).__name__ == "StepDelegatingExecutor"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dagster", "published"]
    job = build_definitions().resolve_job_def("refresh")
    assert job.executor_def.name == "docker"
    assert any(node.name == "parsed_notices" and hasattr(node.definition, "node_defs") for node in job.graph.nodes)
    # without an image the definitions still load (zhenggai refresh, a step's container); a docker run would not start
    monkeypatch.delenv("ZHENGGAI_DOCKER_IMAGE")
    executor = build_definitions().resolve_job_def("refresh").executor_def
    with pytest.raises(dg.DagsterConfigMappingFunctionError) as raised:
        executor.config_schema.resolve_config({})
    assert "needs ZHENGGAI_DOCKER_IMAGE" in str(raised.value.__cause__)
