"""Known vulnerabilities in the installed, pinned packages, by pip-audit.

pip-audit reports "No known vulnerabilities found" even when it could check nothing
(for example when the advisory service cannot be reached), so this says how many
packages were really checked. It fails on any known vulnerability, and with
AUDIT_STRICT=1 also when a package could not be checked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

VENV_BIN = Path(sys.executable).parent


def main() -> int:
    result = subprocess.run(  # noqa: S603 - a fixed command line
        [
            str(VENV_BIN / "pip-audit"),
            "--skip-editable",
            "--progress-spinner",
            "off",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
    )
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        print(result.stderr.strip() or "pip-audit gave no report", file=sys.stderr)
        return 1
    dependencies = report.get("dependencies", [])
    skipped = [d for d in dependencies if d.get("skip_reason")]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    checked = len(dependencies) - len(skipped)
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed release yet"
            print(
                f"VULNERABLE {dependency['name']} {dependency['version']}: {vuln['id']} ({fixes})"
            )
    total = len(dependencies)
    print(f"pip-audit: {checked} of {total} packages checked, {len(vulnerable)} vulnerable")
    if skipped:
        print(
            f"pip-audit: {len(skipped)} packages NOT checked (e.g. {skipped[0]['skip_reason']}); "
            "their advisories could not be fetched from here"
        )
    if vulnerable:
        return 1
    if skipped and os.environ.get("AUDIT_STRICT") == "1":
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
