"""`make ui`: start `dagster dev` on localhost with the one Definitions.

dagster dev's children inherit SIGINT from the terminal's process group and die mid-shutdown; starting it
in its own session and forwarding the signal lets it shut down in order (STACK-NOTES).
"""

import os
import signal
import subprocess
import sys
from pathlib import Path


def main() -> int:
    home = Path(os.environ.get("DAGSTER_HOME", ".dagster_home")).resolve()
    home.mkdir(parents=True, exist_ok=True)
    env = os.environ | {"DAGSTER_HOME": str(home)}
    port = os.environ.get("ZHENGGAI_UI_PORT", "3000")
    command = [sys.executable, "-m", "dagster", "dev", "-m", "orchestration.definitions", "-h", "127.0.0.1", "-p", port]
    process = subprocess.Popen(command, env=env, start_new_session=True)

    def forward(signum, _frame):
        os.killpg(process.pid, signum)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    print(f"Dagster UI: http://127.0.0.1:{port} (DAGSTER_HOME={home}); Ctrl-C to stop", flush=True)
    return process.wait()


if __name__ == "__main__":
    raise SystemExit(main())
