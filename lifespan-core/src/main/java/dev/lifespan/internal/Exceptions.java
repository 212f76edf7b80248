package dev.lifespan.internal;

/** Rethrowing without wrapping. */
final class Exceptions {
  private Exceptions() {}

  /** Throws {@code t} unchanged, checked or not; declared to return so callers can write throw. */
  @SuppressWarnings("unchecked")
  static <X extends Throwable> RuntimeException sneaky(Throwable t) throws X {
    throw (X) t;
  }
}
