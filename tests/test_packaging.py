"""The wheel holds one top-level package with its data; the data resolver; a side-effect-free import."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from macflow_arena import resources

REPO = Path(__file__).resolve().parents[1]


def _build_wheel(out: Path) -> Path:
    """Build the wheel in a subprocess. Without build isolation when hatchling is importable
    (offline); otherwise isolated, which fetches hatchling from the index (as in CI)."""
    if importlib.util.find_spec("build") is not None:
        cmd = [sys.executable, "-m", "build", "--wheel", "--outdir", str(out)]
        if importlib.util.find_spec("hatchling") is not None:
            cmd.append("--no-isolation")
    else:
        cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(out)]
    proc = subprocess.run(cmd + [str(REPO)], capture_output=True, text=True, timeout=300, cwd=out)
    assert proc.returncode == 0, f"wheel build failed:\n{' '.join(cmd)}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    wheels = list(out.glob("macflow_arena-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return _build_wheel(tmp_path_factory.mktemp("wheel"))


def test_wheel_has_one_top_level_package_and_the_data(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        top = {n.split("/", 1)[0] for n in names if not n.split("/", 1)[0].endswith(".dist-info")}
        assert top == {"macflow_arena"}, f"top-level entries besides macflow_arena: {top - {'macflow_arena'}}"
        # every scenario file of the checkout is bundled, byte for byte
        scenario_files = sorted(p.relative_to(REPO) for p in (REPO / "envs").rglob("*.toml"))
        assert scenario_files, "no scenario files in the checkout?"
        for rel in scenario_files:
            inside = f"macflow_arena/_data/{rel.as_posix()}"
            assert inside in names, f"{inside} missing from the wheel"
            assert zf.read(inside) == (REPO / rel).read_bytes()
        for required in ("spread", "tag", "cover"):
            assert f"macflow_arena/_data/envs/particle/{required}.toml" in names
        assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
        assert not [n for n in names if n.startswith(("tests/", "benchmarks/", "envs/", "agents/", "assets/"))]
        metadata = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        assert "macflow-arena = macflow_arena.cli:main" in zf.read(metadata).decode()


def test_unpacked_wheel_runs_from_its_bundled_data(wheel, tmp_path):
    """Import the wheel's copy (not the checkout) with no override: the data comes from _data."""
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    code = textwrap.dedent(
        """
        import sys
        import macflow_arena
        from macflow_arena import resources
        pkg = macflow_arena.__file__
        assert pkg.startswith(sys.argv[1]), pkg
        envs = resources.envs_dir()
        assert envs == resources._PACKAGE_DIR / "_data" / "envs", envs
        ids = list(macflow_arena.list_envs())
        assert "particle/spread-v0" in ids, ids
        env = macflow_arena.make("particle/spread")
        obs, _ = env.reset(seed=0)
        env.step({a: env.action_space(a).sample() for a in env.agents})
        print("ok", len(ids))
        """
    )
    env = {k: v for k, v in os.environ.items() if k != resources.ENV_VAR}
    env["PYTHONPATH"] = str(site)
    proc = subprocess.run([sys.executable, "-c", code, str(site)], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path, env=env)
    assert proc.returncode == 0 and proc.stdout.startswith("ok"), proc.stderr


def test_resolver_honours_the_override(tmp_path, monkeypatch):
    (tmp_path / "envs").mkdir()
    monkeypatch.setenv(resources.ENV_VAR, str(tmp_path))
    assert resources.data_roots()[0] == tmp_path
    assert resources.envs_dir() == tmp_path / "envs"
    # a kind the override lacks falls through to the bundled copy / the checkout
    assert resources.assets_dir() != tmp_path / "assets"
    assert resources.assets_dir().is_dir()
    monkeypatch.setenv(resources.ENV_VAR, "~/some/where")
    assert resources.data_roots()[0] == Path("~/some/where").expanduser()


def test_resolver_without_override_uses_the_checkout(monkeypatch):
    monkeypatch.delenv(resources.ENV_VAR, raising=False)
    assert resources.data_roots()[0] == resources._PACKAGE_DIR / "_data"
    envs = resources.envs_dir()
    assert (envs / "particle" / "spread.toml").is_file()


def test_resolver_error_names_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv(resources.ENV_VAR, str(tmp_path))
    with pytest.raises(FileNotFoundError) as info:
        resources.data_dir("no_such_kind")
    msg = str(info.value)
    assert resources.ENV_VAR in msg and str(tmp_path / "no_such_kind") in msg


def test_import_has_no_side_effects(tmp_path):
    code = textwrap.dedent(
        """
        import os, sys
        before = set(os.listdir("."))
        import macflow_arena
        heavy = [m for m in ("pygame", "torch", "imageio", "safetensors") if m in sys.modules]
        assert not heavy, heavy
        loaded = sorted(m for m in sys.modules if m.startswith("macflow_arena."))
        assert not loaded, loaded  # the registry, envs and scenario files load on first use
        assert set(os.listdir(".")) == before
        print("ok")
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "ok\n", f"import printed something: {proc.stdout!r}"
    assert proc.stderr == "", proc.stderr
