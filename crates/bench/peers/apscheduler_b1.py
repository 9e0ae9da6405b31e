"""B1 peer: APScheduler 3 with the same jobs as Sundial: N cron jobs firing every second,
each spawning the stamp program. Usage: apscheduler_b1.py STAMP OUT JOBS SECONDS"""
import subprocess
import sys
import time

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

stamp, out, jobs, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])


def spawn():
    subprocess.run([stamp, out], check=False)


scheduler = BackgroundScheduler(executors={"default": ThreadPoolExecutor(max_workers=jobs)})
for i in range(jobs):
    scheduler.add_job(spawn, "cron", second="*", id=f"job-{i}", misfire_grace_time=5)
# Start on a second boundary so every scheduler is measured over whole seconds.
time.sleep(1 - (time.time() % 1))
scheduler.start()
time.sleep(seconds)
scheduler.shutdown(wait=True)
