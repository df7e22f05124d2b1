"""Settings: every environment variable read in one place, resolved once, with clear errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hotline.runtime import config
from hotline.runtime.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_model_dir_defaults_to_the_data_dirs_model(tmp_path: Path) -> None:
    s = load_settings(environ={"HOTLINE_DATA_DIR": str(tmp_path)})
    assert s.data_dir == tmp_path and s.model_dir == tmp_path / "model"
    assert s.data_dir_origin == "HOTLINE_DATA_DIR"
    s = load_settings(environ={"HOTLINE_DATA_DIR": str(tmp_path), "HOTLINE_MODEL_DIR": "/m"})
    assert s.model_dir == Path("/m")


def test_every_setting_comes_from_the_one_settings_object() -> None:
    s = load_settings(
        environ={
            "DATABASE_URL": "postgres://u@h/db",
            "MAX_BODY_BYTES": "10",
            "AUTO_DISPATCH": "false",
            "PUBLIC_BASE_URL": "https://12345.example",
            "RUN_SWEEPER": "false",
            "SWEEP_INTERVAL": "5",
            "SMTP_HOST": "mail.example",
            "SMTP_TLS": "tls",
            "MAIL_FROM": "热线 <hotline@city.example>",
        }
    )
    assert (s.database_url, s.max_body_bytes, s.auto_dispatch) == ("postgres://u@h/db", 10, False)
    assert (s.public_base_url, s.run_sweeper, s.sweep_interval) == (
        "https://12345.example",
        False,
        5.0,
    )
    assert (s.smtp.host, s.smtp.port, s.smtp.msgid_domain) == ("mail.example", 465, "city.example")
    assert s.data_dir == ROOT / "data" and s.data_dir_origin == "源码目录"
    assert s.session_max_hours == 12
    assert load_settings(environ={"SESSION_MAX_HOURS": "8"}).session_max_hours == 8
    assert (s.digest_hour, s.reporting_database_url) == (8, "")
    replica = load_settings(environ={"REPORTING_DATABASE_URL": "postgres://r/hotline"})
    assert replica.reporting_database_url == "postgres://r/hotline"


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"SMTP_TLS": "ssl3"}, "邮件设置有误：SMTP_TLS must be one of"),
        ({"SMTP_PORT": "twenty-five"}, "邮件设置有误：SMTP_PORT"),
        ({"MAX_BODY_BYTES": "1MB"}, "环境变量设置有误：.*MAX_BODY_BYTES"),
        ({"SESSION_MAX_HOURS": "0"}, "环境变量 SESSION_MAX_HOURS 必须是正整数（小时数）"),
        ({"DIGEST_HOUR": "25"}, "DIGEST_HOUR 为 25：须为 0 到 23 之间的整点"),
    ],
)
def test_a_bad_variable_is_one_clear_error(environ: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        load_settings(environ=environ)


def test_no_data_directory_found_names_hotline_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What an installed package (no data/ beside it) run from an empty directory says."""
    monkeypatch.setattr(config, "REPO_ROOT", tmp_path / "site-packages")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="找不到数据目录.*请设置环境变量 HOTLINE_DATA_DIR"):
        load_settings(environ={})
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "units.toml").write_text("", encoding="utf-8")
    s = load_settings(environ={})
    assert s.data_dir == tmp_path / "data" and s.data_dir_origin == "当前目录"


ENV_READ = re.compile(r"""(?:config\(|environ\.get\(|getenv\(|environ\[)\s*["']([A-Z_]+)["']""")


def test_no_environment_variable_is_read_in_two_places() -> None:
    """Two readers of one variable drift apart (defaults, parsing); hotline/ reads each once."""
    readers: dict[str, list[str]] = {}
    for path in sorted((ROOT / "hotline").rglob("*.py")):
        for name in ENV_READ.findall(path.read_text(encoding="utf-8")):
            readers.setdefault(name, []).append(str(path.relative_to(ROOT)))
    assert "HOTLINE_MODEL_DIR" in readers and "SMTP_HOST" in readers  # the scan sees reads
    twice = {name: files for name, files in readers.items() if len(files) > 1}
    assert twice == {}
    outside = {f for files in readers.values() for f in files} - {
        "hotline/runtime/config.py",
        "hotline/runtime/mail_settings.py",
        # like mail: given hotline.runtime.config's reader, not os.environ
        "hotline/runtime/sms_settings.py",
    }
    assert outside == set()


def test_the_web_forms_upload_directory_and_photo_limit() -> None:
    s = load_settings(environ={})
    assert s.upload_dir == Path("var/uploads") and s.photo_max_bytes == 10 * 1024 * 1024
    s = load_settings(environ={"UPLOAD_DIR": "/srv/uploads", "PHOTO_MAX_BYTES": "2000000"})
    assert s.upload_dir == Path("/srv/uploads") and s.photo_max_bytes == 2_000_000
    with pytest.raises(ConfigError, match="PHOTO_MAX_BYTES 必须是正整数（字节数）"):
        load_settings(environ={"PHOTO_MAX_BYTES": "10MB"})


def test_open311_api_keys_are_named_pairs_or_bare_keys() -> None:
    key_a, key_b = "a" * 16, "b-0123456789abcdef"
    s = load_settings(environ={"OPEN311_API_KEYS": f" cityapp:{key_a} , {key_b}"})
    assert s.open311_api_keys == (("cityapp", key_a), ("client2", key_b))
    assert load_settings(environ={}).open311_api_keys == ()
    # Keys are secrets: never in the settings' repr (which start-up logs may print).
    assert key_a not in repr(s)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("cityapp:short", "至少 16 个可见 ASCII 字符"),
        ("cityapp:" + "密" * 16, "至少 16 个可见 ASCII 字符"),
        (":" + "a" * 16, "客户端名称"),
        (f"one:{'a' * 16},two:{'a' * 16}", "重复"),
        (f"one:{'a' * 16},one:{'b' * 16}", "重复"),
    ],
)
def test_a_bad_open311_key_stops_start_up_naming_it(raw: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=f"OPEN311_API_KEYS.*{expected}"):
        load_settings(environ={"OPEN311_API_KEYS": raw})


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"WECHAT_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"}, "WECHAT_APPID"),
        ({"WECHAT_AES_KEY": "too-short", "WECHAT_APPID": "wx1"}, "WECHAT_AES_KEY 有误.*43"),
        ({"WECHAT_AES_KEY": "!" * 43, "WECHAT_APPID": "wx1"}, "WECHAT_AES_KEY 有误.*Base64"),
    ],
)
def test_a_wechat_key_that_cannot_be_used_stops_start_up(
    environ: dict[str, str], expected: str
) -> None:
    # With a key set plain messages are refused: a key that does not load would refuse all.
    with pytest.raises(ConfigError, match=expected):
        load_settings(environ=environ)


def test_links_follow_the_served_address_unless_public_base_url_is_set() -> None:
    environ: dict[str, str] = {}
    config.follow_served_address(environ, "127.0.0.1", 8765)
    assert load_settings(environ=environ).public_base_url == "http://127.0.0.1:8765"
    everywhere: dict[str, str] = {}
    config.follow_served_address(everywhere, "0.0.0.0", 9000)
    assert everywhere["PUBLIC_BASE_URL"] == "http://127.0.0.1:9000"
    assert config.served_url("::1", 8000) == "http://[::1]:8000"
    given = {"PUBLIC_BASE_URL": "https://12345.example"}
    config.follow_served_address(given, "127.0.0.1", 8765)
    assert load_settings(environ=given).public_base_url == "https://12345.example"
