"""Chromium's trust: the system's roots plus `tls.ca_bundle`, and nothing else.

Chromium on Linux takes no CA file by flag: besides its built-in roots it trusts the certificates in the NSS
database at `$HOME/.pki/nssdb`. So the robot makes a database of its own in its data folder, imports the bundle
with `certutil` (Debian's libnss3-tools) and starts Chromium with HOME pointing there. The user's own
`~/.pki/nssdb` (whatever someone imported by hand) is never read. Certificate errors stay errors: no
`--ignore-certificate-errors`, no `ignore_https_errors`.

The database lives at `<data_dir>/nssdb/<hash of the bundle>/.pki/nssdb`: named by its content, so worker
processes starting at the same time build it once between them, a changed bundle gets a new one, and a database
is never changed while a browser has it open.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from bot.config import TlsSettings
from bot.errors import ConfigError

CERTUTIL = "certutil"
INSTALL_HINT = "apt-get install libnss3-tools (./install.sh does it)"
_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----\s.+?-----END CERTIFICATE-----", re.S)


def bundle_certificates(bundle: Path) -> list[bytes]:
    """The PEM certificates in a bundle file, each on its own (certutil imports one at a time)."""
    try:
        data = bundle.read_bytes()
    except OSError as exc:
        raise ConfigError(f"tls.ca_bundle: cannot read {bundle}: {exc.strerror or exc}") from exc
    found = _PEM.findall(data)
    if not found:
        raise ConfigError(f"tls.ca_bundle: {bundle} holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
    return found


def _certutil(*args: str) -> None:
    try:
        done = subprocess.run([CERTUTIL, *args], capture_output=True, text=True, timeout=60, check=False)
    except FileNotFoundError as exc:
        raise ConfigError(f"tls.ca_bundle is set but {CERTUTIL} is not installed: {INSTALL_HINT}") from exc
    if done.returncode != 0:
        raise ConfigError(f"tls.ca_bundle: {CERTUTIL} {args[0]} failed: {(done.stderr or done.stdout).strip()}")


def _build(home: Path, certificates: list[bytes]) -> None:
    db = home / ".pki" / "nssdb"
    db.mkdir(parents=True)
    _certutil("-N", "-d", f"sql:{db}", "--empty-password")
    for number, pem in enumerate(certificates, 1):
        cert_file = home / f"ca-{number}.pem"
        cert_file.write_bytes(pem + b"\n")
        # C,,: a CA trusted to issue TLS server certificates (not e-mail, not code signing).
        _certutil("-A", "-d", f"sql:{db}", "-n", f"casebot tls.ca_bundle {number}", "-t", "C,,", "-i",
                  str(cert_file))
        cert_file.unlink()


def browser_home(settings: TlsSettings, data_dir: Path) -> Path:
    """The HOME to start Chromium with: an NSS database trusting `settings.ca_bundle`, or an empty home (the
    system's roots only) when no bundle is configured."""
    root = data_dir / "nssdb"
    certificates = bundle_certificates(settings.ca_bundle) if settings.ca_bundle is not None else []
    digest = hashlib.sha256(b"".join(certificates)).hexdigest()[:16] if certificates else "system-only"
    home = root / digest
    if home.is_dir():
        return home
    root.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=".build-", dir=root))
    try:
        if certificates:
            _build(building, certificates)
        else:
            (building / ".pki" / "nssdb").mkdir(parents=True)  # Chromium makes an empty database there
        os.chmod(building, 0o700)
        try:
            building.rename(home)
        except OSError:
            if not home.is_dir():  # not another process that got there first
                raise
    finally:
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(building)
    return home


def browser_env(home: Path | None) -> dict[str, str] | None:
    """The environment for a browser started with `home` (None: the robot's own)."""
    if home is None:
        return None
    return {**os.environ, "HOME": str(home)}
