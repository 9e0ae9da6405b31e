"""B1 peer: APScheduler 3 with the same jobs as Sundial: N cron jobs firing every second,
each spawning the stamp program. Usage: apscheduler_b1.py STAMP OUT JOBS SECONDS

Also writes, to OUT with the suffix .dispatch, the instant each job function was entered
(nanoseconds since the epoch), before it spawns."""
import subprocess
import sys
import time

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

stamp, out, jobs, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])


dispatched = []


def spawn():
    dispatched.append(time.time_ns())  # list.append is atomic in CPython
    subprocess.run([stamp, out], check=False)


scheduler = BackgroundScheduler(executors={"default": ThreadPoolExecutor(max_workers=jobs)})
for i in range(jobs):
    scheduler.add_job(spawn, "cron", second="*", id=f"job-{i}", misfire_grace_time=5)
# Start on a second boundary so every scheduler is measured over whole seconds.
time.sleep(1 - (time.time() % 1))
scheduler.start()
time.sleep(seconds)
scheduler.shutdown(wait=True)
with open(out.rsplit(".", 1)[0] + ".dispatch", "w") as f:
    f.write("".join(f"{t}\n" for t in dispatched))
