"""Installed Claude Code plugins, for their agents (``plugin:agent``) and skills (``plugin:skill``).

Claude Code records what is installed in ``~/.claude/plugins/installed_plugins.json``: ``{"version": 1 or 2,
"plugins": {"NAME@MARKETPLACE": {"installPath": …} or [{"scope": …, "installPath": …}, …]}}``, each install
path a copy under ``~/.claude/plugins/cache/MARKETPLACE/NAME/VERSION/``. A plugin's root holds
``.claude-plugin/plugin.json`` (its ``name``: the namespace; ``agents`` / ``skills``: extra paths inside the
plugin, added to the default ``agents/`` and ``skills/`` folders). A plugin switched off in ``enabledPlugins``
(``~/.claude/settings.json``, the project's ``.claude/settings.json`` and ``settings.local.json``; the
project's word wins) is left out. Without the registry file no plugin is installed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .claude_config import home_folder, read_json


@dataclass(frozen=True)
class Plugin:
    name: str  # the namespace of its agents and skills
    key: str  # NAME@MARKETPLACE, as installed
    root: Path
    manifest: dict[str, Any] = field(default_factory=dict)

    def _extra(self, key: str) -> list[Path]:
        value = self.manifest.get(key)
        paths: list[str] = []
        if isinstance(value, str):
            paths = [value]
        elif isinstance(value, list):
            paths = [v for v in value if isinstance(v, str)]
        root = self.root.resolve()
        out = []
        for text in paths:
            target = (root / text).resolve()
            if target == root or root in target.parents:  # never outside the plugin
                out.append(target)
        return out

    def agent_files(self) -> list[Path]:
        files: list[Path] = []
        for place in [self.root / "agents", *self._extra("agents")]:
            if place.is_dir():
                files += sorted(p for p in place.glob("*.md") if p.is_file())
            elif place.is_file() and place.suffix == ".md":
                files.append(place)
        return list(dict.fromkeys(files))

    def skill_folders(self) -> list[Path]:
        folders: list[Path] = []
        for place in [self.root / "skills", *self._extra("skills")]:
            if (place / "SKILL.md").is_file():
                folders.append(place)
            elif place.is_dir():
                folders += sorted(p for p in place.iterdir() if (p / "SKILL.md").is_file())
        return list(dict.fromkeys(folders))


def _switched_off(workspace: Path, home: Path | None) -> set[str]:
    state: dict[str, bool] = {}
    for path in (home_folder(home) / "settings.json", workspace / ".claude" / "settings.json",
                 workspace / ".claude" / "settings.local.json"):
        settings = read_json(path)
        enabled = settings.get("enabledPlugins") if isinstance(settings, dict) else None
        if isinstance(enabled, dict):
            state.update({str(k): bool(v) for k, v in enabled.items() if isinstance(v, bool)})
    return {key for key, on in state.items() if not on}


def installed_plugins(workspace: Path, home: Path | None = None) -> list[Plugin]:
    """The installed, switched-on plugins whose folder exists, sorted by name."""
    registry_path = home_folder(home) / "plugins" / "installed_plugins.json"
    registry = read_json(registry_path)
    entries = registry.get("plugins") if isinstance(registry, dict) else None
    if not isinstance(entries, dict):
        return []
    off = _switched_off(workspace, home)
    found: dict[str, Plugin] = {}
    for key, installs in sorted(entries.items()):
        if key in off:
            continue
        for install in installs if isinstance(installs, list) else [installs]:
            where = install.get("installPath") if isinstance(install, dict) else None
            if not isinstance(where, str):
                continue
            root = Path(where).expanduser()
            root = root if root.is_absolute() else registry_path.parent / root
            if not root.is_dir():
                continue
            manifest = read_json(root / ".claude-plugin" / "plugin.json")
            manifest = manifest if isinstance(manifest, dict) else {}
            name = manifest.get("name") if isinstance(manifest.get("name"), str) else key.split("@", 1)[0]
            found.setdefault(str(name), Plugin(str(name), key, root, manifest))
            break
    return [found[name] for name in sorted(found)]
