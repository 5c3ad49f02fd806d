/* Forward throughput of a network compiled by `chassis compile` (float64, one thread): the object
 * defines int chassis_F(const double* in, double* out) and int chassis_F_batch(const double* in,
 * double* out, size_t rows) for a network F(x) -> (y). Built by run_forward_compiled.sh with the
 * network's header force-included (-include F.h).
 *   forward_compiled ROWS ITERS -> "compiled batch=ROWS rows_per_s=.. us_per_call=.. (checksum ..)"
 *                                  "compiled_batched batch=ROWS rows_per_s=.. us_per_call=.. ..."
 * The inputs are forward.js's pseudo-random batch (values in [-0.5, 0.5)); each iteration runs
 * the compiled function once per row, as a C caller of the object would, then (second line) the
 * batched entry once on all ROWS rows; 100 warm-up rows. The two give the same outputs (checked:
 * the checksums of the last iteration's rows must agree bit for bit, else exit 1). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: forward_compiled ROWS ITERS\n");
    return 2;
  }
  const long rows = atol(argv[1]), iters = atol(argv[2]);
  const long nin = CHASSIS_F_NUM_INPUTS, nout = CHASSIS_F_NUM_OUTPUTS;
  double* x = malloc(sizeof(double) * (size_t)(rows * nin));
  double* y = malloc(sizeof(double) * (size_t)nout);
  if (rows < 1 || iters < 1 || !x || !y) return 2;
  unsigned long long seed = 12345;
  for (long i = 0; i < rows * nin; ++i) {
    seed = (seed * 1103515245ull + 12345ull) % 2147483648ull;
    x[i] = (double)(float)((double)seed / 2147483648.0 - 0.5);
  }
  double sink = 0;
  for (long i = 0; i < 100; ++i) {
    if (chassis_F(x + (i % rows) * nin, y) != CHASSIS_OK) {
      fprintf(stderr, "the compiled function failed on row %ld\n", i % rows);
      return 1;
    }
    sink += y[0];
  }
  double* all = malloc(sizeof(double) * (size_t)(rows * nout));
  if (!all) return 2;
  double t0 = now(), rowSum = 0;
  for (long it = 0; it < iters; ++it)
    for (long r = 0; r < rows; ++r) {
      chassis_F(x + r * nin, y);
      sink += y[0];
      if (it == iters - 1) rowSum += y[nout - 1] * (double)(r + 1);
    }
  double secs = now() - t0;
  printf("compiled batch=%ld rows_per_s=%.0f us_per_call=%.2f (checksum %.3g)\n", rows,
         (double)(rows * iters) / secs, secs / (double)iters * 1e6, sink);
  double batchSum = 0;
  t0 = now();
  for (long it = 0; it < iters; ++it) {
    if (chassis_F_batch(x, all, (size_t)rows) != CHASSIS_OK) {
      fprintf(stderr, "the batched function failed\n");
      return 1;
    }
    sink += all[0];
  }
  secs = now() - t0;
  for (long r = 0; r < rows; ++r)
    batchSum += all[r * nout + nout - 1] * (double)(r + 1);
  printf("compiled_batched batch=%ld rows_per_s=%.0f us_per_call=%.2f (checksum %.3g)\n", rows,
         (double)(rows * iters) / secs, secs / (double)iters * 1e6, sink);
  if (batchSum != rowSum) {
    fprintf(stderr, "the batched outputs differ from the row-by-row ones\n");
    return 1;
  }
  free(all);
  free(x);
  free(y);
  return 0;
}
