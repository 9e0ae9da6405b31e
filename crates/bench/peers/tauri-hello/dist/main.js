// Benchmark B7's first-paint report, as in Sundial's ui/src/bench.ts: present only when the app
// was started with SUNDIAL_BENCH_PAINT_FILE. The page is static, so its first render is done
// when this script runs; two animation frames later it has been painted.
const report = window.__SUNDIAL_BENCH_PAINT__;
if (report) {
  requestAnimationFrame(() =>
    requestAnimationFrame(() => report(performance.timeOrigin + performance.now())),
  );
}
