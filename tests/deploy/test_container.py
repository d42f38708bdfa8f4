"""The Dockerfile's two images, built with buildah and run for real on loopback.

No Docker engine and no Docker Hub here: deploy/build_base_image.sh makes a local Debian base
(cached in buildah's storage, so only the first run pays for it), deploy/build_image.sh builds the
`service` and `loadgen` targets on it, and each container runs with `buildah run --isolation
chroot --network host`, so the service inside listens on the host's loopback.

Stopping: `buildah run` does not pass SIGTERM on (it kills its child), so a test stops the
container the way a container engine does, by sending SIGTERM to the container's main process,
the service itself; then `buildah rm` drops the working container.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
BASE_IMAGE = "localhost/loadbench-base:bookworm"
SERVICE_IMAGE = "localhost/loadbench-service:test"
LOADGEN_IMAGE = "localhost/loadbench-loadgen:test"
APP_UID = 10001


def _why_no_buildah() -> str | None:
    if shutil.which("buildah") is None:
        return "CONTAINER TESTS SKIPPED: buildah is not installed (`make system-deps` installs it)"
    if os.geteuid() != 0:
        return "CONTAINER TESTS SKIPPED: buildah's chroot isolation needs root"
    return None


pytestmark = [
    pytest.mark.container,
    pytest.mark.skipif(_why_no_buildah() is not None, reason=str(_why_no_buildah())),
]

# The service checks written for tests/service, reused here against the container's URL.
sys.path.insert(0, str(REPO_ROOT / "tests" / "service"))
if "service_checks" not in sys.modules:
    pytest.register_assert_rewrite("service_checks")
from service_checks import assert_json_error, new_product  # noqa: E402

BUILDAH_ENV = {**os.environ, "STORAGE_DRIVER": os.environ.get("STORAGE_DRIVER", "vfs"),
               "BUILDAH_ISOLATION": "chroot"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(*command: str, timeout: float = 600, check: bool = True,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                            env=env or BUILDAH_ENV, cwd=REPO_ROOT, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} exited {result.returncode}:\n"
                             f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def image_config(image: str) -> dict[str, Any]:
    inspected = json.loads(run("buildah", "inspect", "--type", "image", image).stdout)
    return dict(inspected["Docker"]["config"])


@dataclass
class Container:
    """A buildah working container of one image; `rm` drops it."""

    name: str
    image: str

    @classmethod
    def create(cls, image: str, **env: str) -> Container:
        name = f"loadbench-test-{uuid.uuid4().hex[:10]}"
        run("buildah", "from", "--pull-never", "--name", name, image, timeout=120)
        if env:
            run("buildah", "config", *(f"--env={key}={value}" for key, value in env.items()), name)
        return cls(name, image)

    def command(self, *command: str) -> list[str]:
        return ["buildah", "run", "--isolation", "chroot", "--network", "host", self.name,
                "--", *command]

    def run(self, *command: str, timeout: float = 120,
            check: bool = True) -> subprocess.CompletedProcess[str]:
        return run(*self.command(*command), timeout=timeout, check=check)

    def start(self, *command: str, log_path: Path) -> subprocess.Popen[bytes]:
        with log_path.open("wb") as log:
            return subprocess.Popen(self.command(*command), stdout=log, stderr=subprocess.STDOUT,
                                    env=BUILDAH_ENV)

    def rm(self) -> None:
        run("buildah", "rm", self.name, check=False, timeout=120)


@dataclass
class ContainerService:
    """The service image's own command, running in a container on a loopback port."""

    container: Container
    url: str
    buildah_run: subprocess.Popen[bytes]
    log_path: Path

    def main_process(self) -> psutil.Process:
        """The service process inside the container (buildah's chroot helper is its parent)."""
        for child in psutil.Process(self.buildah_run.pid).children(recursive=True):
            with_args = child.cmdline()
            if with_args and Path(with_args[0]).name.startswith("python"):
                return child
        raise AssertionError(f"no python process under buildah run {self.buildah_run.pid}")

    def stop(self, timeout: float = 20) -> str:
        """SIGTERM to the service, as a container engine sends it; return the log."""
        if self.buildah_run.poll() is None:
            try:
                self.main_process().send_signal(signal.SIGTERM)
                self.buildah_run.wait(timeout=timeout)
            except (AssertionError, psutil.Error, subprocess.TimeoutExpired):
                kill_tree(self.buildah_run)
        return self.log_path.read_text(errors="replace")


def kill_tree(process: subprocess.Popen[bytes]) -> None:
    """Kill a `buildah run` still running and what it started inside the container."""
    if process.poll() is not None:
        return
    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    for child in [*children, psutil.Process(process.pid)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()
    process.wait()


def start_service_container(log_dir: Path) -> ContainerService:
    port = free_port()
    container = Container.create(SERVICE_IMAGE, HOST="127.0.0.1", PORT=str(port))
    config = image_config(SERVICE_IMAGE)
    command = [*(config.get("Entrypoint") or []), *config["Cmd"]]
    log_path = log_dir / f"{container.name}.log"
    service = ContainerService(container, f"http://127.0.0.1:{port}",
                               container.start(*command, log_path=log_path), log_path)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if service.buildah_run.poll() is not None:
            container.rm()
            raise AssertionError(f"container exited early:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{service.url}/health", timeout=1) as response:
                if response.status == 200:
                    return service
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    service.stop()
    container.rm()
    raise AssertionError(f"containerised service not healthy in 30s:\n{log_path.read_text()}")


# --- images: built once per module; `pytest --durations=0` shows what each build took ---------

@pytest.fixture(scope="module")
def base_image() -> str:
    if shutil.which("debootstrap") is None and run(
            "buildah", "inspect", "--type", "image", BASE_IMAGE, check=False).returncode != 0:
        pytest.fail("debootstrap is not installed and the base image is missing (make system-deps)")
    run("deploy/build_base_image.sh", BASE_IMAGE, timeout=900)
    return BASE_IMAGE


@pytest.fixture(scope="module")
def service_image(base_image: str) -> str:
    run("deploy/build_image.sh", "service", SERVICE_IMAGE,
        env={**BUILDAH_ENV, "BASE_IMAGE": base_image}, timeout=900)
    return SERVICE_IMAGE


@pytest.fixture(scope="module")
def loadgen_image(base_image: str) -> str:
    run("deploy/build_image.sh", "loadgen", LOADGEN_IMAGE,
        env={**BUILDAH_ENV, "BASE_IMAGE": base_image}, timeout=900)
    return LOADGEN_IMAGE


@pytest.fixture(scope="module")
def service(service_image: str,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[ContainerService]:
    running = start_service_container(tmp_path_factory.mktemp("container"))
    try:
        yield running
    finally:
        running.stop()
        running.container.rm()


@pytest.fixture
def client(service: ContainerService) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service.url, timeout=10) as http:
        yield http


# --- the service image ---------------------------------------------------------------------------

def test_service_image_settings(service_image: str) -> None:
    config = image_config(service_image)
    assert config["User"] == f"{APP_UID}:{APP_UID}"
    assert config["Cmd"] == ["python", "-m", "target_service"]  # exec form: python is PID 1
    assert not config.get("Entrypoint")
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["PORT"] == "8080" and env["HOST"] == "0.0.0.0"
    assert env["PATH"].startswith("/opt/venv/bin:")
    assert "8080/tcp" in config["ExposedPorts"]
    assert config["Healthcheck"]["Test"][0] == "CMD"  # exec form, no shell needed


def test_service_image_holds_only_the_service_extra(service: ContainerService) -> None:
    probe = ("import importlib.util as u; "
             "print(*(n for n in ('uvicorn', 'starlette', 'orjson', 'target_service', 'locust', "
             "'pandas', 'scenarios', 'pip') if u.find_spec(n)))")
    installed = service.container.run("python", "-c", probe).stdout.split()
    assert installed == ["uvicorn", "starlette", "orjson", "target_service"]


def test_service_runs_as_the_unprivileged_user(service: ContainerService) -> None:
    uids = service.main_process().uids()
    assert (uids.real, uids.effective) == (APP_UID, APP_UID)


def test_api_through_the_container(client: httpx.Client) -> None:
    health = client.get("/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert health.json()["version"]

    product = new_product("container", name="Lamp", price=21.5)
    created = client.post("/products", json=product)
    assert created.status_code == 201 and created.json() == product
    assert created.headers["location"] == f"/products/{product['productId']}"
    fetched = client.get(created.headers["location"])
    assert fetched.status_code == 200 and fetched.json() == product

    assert_json_error(client.post("/products", json=product), 409)
    assert_json_error(client.post("/products", json={**new_product(), "price": "cheap"}), 400)
    assert_json_error(client.post("/products", content=b"{not json",
                                  headers={"content-type": "application/json"}), 400)
    assert_json_error(client.get("/products/no-such-product"), 404)

    listing = client.get("/products")
    assert listing.status_code == 200 and isinstance(listing.json(), dict)
    assert product["productId"] in listing.text


def test_healthcheck_command_works_inside_the_container(service: ContainerService) -> None:
    check = image_config(service.container.image)["Healthcheck"]["Test"][1:]
    assert service.container.run(*check).returncode == 0
    refused = service.container.run("env", f"PORT={free_port()}", *check, check=False)
    assert refused.returncode != 0, "the health check passed with nothing listening"


def test_sigterm_stops_the_service_gracefully(service_image: str, tmp_path: Path) -> None:
    running = start_service_container(tmp_path)
    try:
        started = time.monotonic()
        log = running.stop()
        assert time.monotonic() - started < 10, log
        assert running.buildah_run.returncode is not None
        assert "shutdown complete" in log and "Finished server process" in log, log
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{running.url}/health", timeout=2)
    finally:
        running.container.rm()


# --- the load generator image ------------------------------------------------------------------

@pytest.fixture(scope="module")
def loadgen(loadgen_image: str) -> Iterator[Container]:
    container = Container.create(loadgen_image)
    try:
        yield container
    finally:
        container.rm()


def test_loadgen_image_runs_locust(loadgen_image: str, loadgen: Container) -> None:
    config = image_config(loadgen_image)
    assert config["Entrypoint"] == ["locust"]
    assert config["Cmd"][:2] == ["-f", "scenarios/locustfile.py"]
    assert config["User"] == f"{APP_UID}:{APP_UID}"
    version = loadgen.run("locust", "--version").stdout
    assert version.startswith("locust 2.") and "/opt/venv/" in version
    for locustfile in (["-f", "scenarios/locustfile.py"], []):  # [] = LOCUST_LOCUSTFILE
        users = loadgen.run("locust", *locustfile, "--list").stdout
        assert "HttpProductUser" in users and "FastProductUser" in users
    probe = ("import importlib.util as u; "
             "print(*(n for n in ('locust', 'psutil', 'scenarios', 'boto3', 'uvicorn', "
             "'starlette', 'target_service', 'pandas') if u.find_spec(n)))")
    assert loadgen.run("python", "-c", probe).stdout.split() == [
        "locust", "psutil", "scenarios", "boto3"]
    # the sweep task's entrypoint (terraform/sweep.tf) runs from this image
    assert "fetch" in loadgen.run("python", "-m", "scenarios.remote_results", "--help").stdout


def test_loadgen_master_and_worker_drive_the_service_container(
        loadgen: Container, service: ContainerService, tmp_path: Path) -> None:
    """The ECS shape on loopback: a headless master and one worker, both from the loadgen image."""
    master_port = free_port()
    locustfile = ["locust", "-f", "scenarios/locustfile.py"]
    master = loadgen.start(
        *locustfile, "--master", "--headless", "--expect-workers", "1",
        "--master-bind-host", "127.0.0.1", "--master-bind-port", str(master_port),
        "--users", "4", "--spawn-rate", "4", "--run-time", "4s", "--pacing", "constant:0.05",
        "--seed-products", "20", "--host", service.url, "--json",
        log_path=tmp_path / "master.log")
    # The worker's command as an ECS task gives it: no -f, the image's LOCUST_LOCUSTFILE holds it.
    worker = loadgen.start("locust", "--worker", "--master-host", "127.0.0.1",
                           "--master-port", str(master_port), log_path=tmp_path / "worker.log")
    try:
        master.wait(timeout=60)
        worker.wait(timeout=30)
    finally:
        for process in (master, worker):
            kill_tree(process)
    log = (tmp_path / "master.log").read_text(errors="replace")
    assert master.returncode == 0, log[-3000:]
    stats = json.loads(log[log.index("[\n"):log.rindex("]") + 1])
    requests = sum(entry["num_requests"] for entry in stats)
    failures = sum(entry["num_failures"] for entry in stats)
    assert requests > 20 and failures == 0, stats
