package dev.lifespan.internal;

/** Why a scope was cancelled: the first cancellation of a scope wins and is kept. */
record CancelReason(String message, boolean deadline) {
  static final CancelReason CANCELLED = new CancelReason("cancel() called", false);
  static final CancelReason DEADLINE = new CancelReason("deadline exceeded", true);
}
