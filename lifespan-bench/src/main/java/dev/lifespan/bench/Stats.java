package dev.lifespan.bench;

/** Order statistics of sorted samples, for the bounded harnesses (not JMH). */
public final class Stats {
  private Stats() {}

  /** The median of {@code sorted} (NaN if empty). */
  public static double median(double[] sorted) {
    if (sorted.length == 0) return Double.NaN;
    int m = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
  }

  /** The nearest-rank {@code p}-th percentile of {@code sorted} (NaN if empty). */
  public static double percentile(double[] sorted, int p) {
    if (sorted.length == 0) return Double.NaN;
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(0, rank - 1)];
  }
}
