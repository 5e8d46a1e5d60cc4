"""Settings: file, env, flags; validation names the bad key; dev mode."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest

from relevo.server.config import ConfigError, load_settings, settings_from_mapping, write_dev_config
from relevo.settings import Rule

SECRET = "s" * 32


def test_defaults_and_layers(tmp_path: Path) -> None:
    path = tmp_path / "relevo.toml"
    path.write_text(f'[server]\nport = 9000\n[auth]\nsecret = "{SECRET}"\n')
    env = {"RELEVO_SERVER_PORT": "9100", "RELEVO_BROKER_URL": "redis://127.0.0.1:6379/0"}
    settings = load_settings(path, {"server": {"host": "0.0.0.0"}}, environ=env)
    assert settings.server.port == 9100
    assert settings.server.host == "0.0.0.0"
    assert settings.broker.url == "redis://127.0.0.1:6379/0"
    assert settings.limits.max_frame_bytes == 65536
    assert load_settings(None, environ={}).server.port == 8000


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"server": {"prot": 1}}, "server.prot: unknown setting"),
        ({"server": {"port": "abc"}}, "server.port: expected an integer"),
        ({"server": {"port": 70000}}, "server.port: 70000 is not a TCP port"),
        ({"limits": {"max_frame_bytes": 0}}, "limits.max_frame_bytes: must be positive"),
        ({"serverr": {}}, "serverr: unknown setting"),
        ({"auth": {"secret": "short"}}, "auth.secret: use at least 32"),
        ({"auth": {"secret": "s" * 31}}, "auth.secret: use at least 32"),
        ({"auth": {"require_exp": False}}, "auth.require_exp: only relevo demo"),
        ({"auth": {"algorithms": ["none"]}}, "auth.algorithms: unsupported"),
        ({"auth": {"algorithms": ["RS256"]}}, "auth.public_key: required"),
        ({"broker": {"url": "kafka://x"}}, "broker.url: use memory://"),
        ({"namespaces": {"gtr": {"subscribe": ["everyone"]}}}, "namespaces.gtr.subscribe[0]"),
        ({"namespaces": {"gtr": {"subscribe": [{"rol": "x"}]}}}, "namespaces.gtr.subscribe[0].rol"),
        ({"namespaces": {"gtr": {"history_size": -1}}}, "namespaces.gtr: history_size"),
        ({"apps": ["crm"]}, "apps: unknown app 'crm'"),
        ({"app": {"crm": {}}}, "app.crm: unknown app"),
        ({"app": {"leads": 3}}, "app: expected tables"),
        ({"liveness": {"ping_interval": True}}, "liveness.ping_interval: expected a number"),
    ],
)
def test_validation_names_the_setting(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        settings_from_mapping(data)


def test_require_exp_is_on_by_default_and_off_only_in_demo() -> None:
    assert settings_from_mapping({}).auth.require_exp is True
    demo = settings_from_mapping({"demo": True, "auth": {"require_exp": False}})
    assert demo.auth.require_exp is False


def test_app_options_reach_the_app() -> None:
    settings = settings_from_mapping({"apps": ["leads"], "app": {"leads": {"timeout": 3}}})
    assert settings.app == {"leads": {"timeout": 3}}


def test_rule_shorthands() -> None:
    settings = settings_from_mapping(
        {"namespaces": {"x": {"subscribe": ["anonymous", "authenticated", "role:gtr"]}}}
    )
    assert settings.namespaces[0].subscribe == (Rule(anonymous=True), Rule(), Rule(role="gtr"))


def test_bad_toml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[server\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(bad, environ={})
    with pytest.raises(ConfigError, match="no such config file"):
        load_settings(tmp_path / "missing.toml", environ={})


def test_dev_config_has_secrets_and_every_setting(tmp_path: Path) -> None:
    path = tmp_path / "relevo.toml"
    settings = write_dev_config(path)
    assert len(settings.auth.secret) >= 32
    assert settings.auth.api_key
    text = path.read_text()
    tomllib.loads(text)
    for name in ("# port = 8000", "# max_frame_bytes = 65536", "# ping_interval = 25.0", "# url ="):
        assert name in text
    assert {ns.name for ns in settings.namespaces} == {"demo", "user"}  # t is the inbox app's
    assert path.stat().st_mode & 0o777 == 0o600
    again = write_dev_config(tmp_path / "other.toml")
    assert again.auth.secret != settings.auth.secret


def test_trusted_proxies_reach_uvicorn() -> None:
    from relevo.server.app import RelevoServer
    from tests.conftest import make_settings

    default = RelevoServer(make_settings())
    assert default.config.proxy_headers is True
    assert default.config.forwarded_allow_ips == ["127.0.0.1"]
    settings = load_settings(None, {"server": {"trusted_proxies": ["10.0.0.0/8"]}})
    assert settings.server.trusted_proxies == ("10.0.0.0/8",)
    lan = RelevoServer(dataclasses.replace(make_settings(), server=settings.server))
    assert lan.config.forwarded_allow_ips == ["10.0.0.0/8"]


def test_an_app_namespace_is_never_replaced_by_the_file(tmp_path: Path) -> None:
    from relevo.server.run import with_app_namespaces

    path = tmp_path / "relevo.toml"
    # What `relevo serve` wrote before: a t namespace with client publish.
    path.write_text(
        '[namespaces.t]\nsubscribe = [{ channel = "t:{tenant}:*" }]\n'
        'publish = [{ channel = "t:{tenant}:*" }]\n'
        '[namespaces.room]\nsubscribe = ["authenticated"]\n'
    )
    settings = load_settings(path, {"apps": ["inbox", "leads"]}, environ={})
    with pytest.raises(ConfigError, match=r"namespaces\.t: .*the inbox app owns"):
        with_app_namespaces(settings)


def test_app_namespaces_merge_with_the_files() -> None:
    from relevo.apps import inbox
    from relevo.server.run import with_app_namespaces

    same_t = inbox.namespaces()[0]
    settings = dataclasses.replace(
        settings_from_mapping({"apps": ["inbox", "leads"]}),
        namespaces=(same_t, *settings_from_mapping({"namespaces": {"room": {}}}).namespaces),
    )
    merged = with_app_namespaces(settings)
    names = [ns.name for ns in merged.namespaces]
    # t once: identical
    assert sorted(names) == ["asesor", "equipo", "gtr", "presencia", "room", "t"]
    assert with_app_namespaces(merged) == merged


def test_the_written_config_leaves_app_namespaces_to_the_apps(tmp_path: Path) -> None:
    from relevo.apps import KNOWN_APPS
    from relevo.apps.registry import load_app
    from relevo.server.run import with_app_namespaces

    written = write_dev_config(tmp_path / "relevo.toml")
    owned = {ns.name for app in KNOWN_APPS for ns in load_app(app).namespaces({})}
    assert not owned & {ns.name for ns in written.namespaces}
    with_app_namespaces(dataclasses.replace(written, apps=KNOWN_APPS))


_URL = "http://127.0.0.1:9/relevo"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"proxy": {"connect": {}}}, "proxy.connect.url"),
        ({"proxy": {"connect": {"url": "file:///etc/passwd"}}}, "proxy.connect.url"),
        ({"proxy": {"connect": {"url": _URL, "timeout": 0}}}, "proxy.connect.timeout"),
        ({"proxy": {"connect": {"url": _URL, "forward_headers": ["Host"]}}}, "'Host'"),
        ({"proxy": {"connect": {"url": _URL, "forward_headers": ["Cookie"]}}}, "forward_cookies"),
        ({"proxy": {"connect": {"url": _URL, "headers": {"a b": "x"}}}}, "'a b'"),
        ({"proxy": {"p": {"url": _URL, "forward_cookies": ["sid"]}}}, "[proxy.connect] only"),
        ({"proxy": {"connect": {"url": _URL, "bogus": 1}}}, "proxy.connect.bogus"),
        ({"proxy": "x"}, "proxy: expected tables"),
        ({"namespaces": {"a": {"subscribe_proxy": "nope"}}}, "namespaces.a.subscribe_proxy"),
        (
            {
                "proxy": {"connect": {"url": _URL}},
                "namespaces": {"a": {"subscribe_proxy": "connect"}},
            },
            "is the connect proxy",
        ),
    ],
)
def test_proxy_settings_are_checked(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        settings_from_mapping(data)


def test_proxy_settings_read() -> None:
    s = settings_from_mapping(
        {
            "proxy": {
                "connect": {"url": _URL, "forward_cookies": ["sessionid"], "timeout": 2},
                "perms": {"url": _URL, "headers": {"X-Key": "k"}},
            },
            "namespaces": {"pedido": {"subscribe_proxy": "perms"}},
        }
    )
    connect, perms = s.proxies
    assert (connect.name, connect.timeout, connect.forward_cookies) == (
        "connect",
        2.0,
        ("sessionid",),
    )
    assert (perms.name, perms.timeout, perms.headers) == ("perms", 1.0, {"X-Key": "k"})
    assert s.namespaces[0].subscribe_proxy == "perms"
