package dev.lifespan.jdbc.internal;

import dev.lifespan.jdbc.Entry;
import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.FlightRecorder;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * The journal's JDK Flight Recorder events ({@code dev.lifespan.jdbc.*}, category "Lifespan"), in
 * the manner of core's: each method returns at once unless a recording was ever created in this JVM
 * ({@link FlightRecorder#isInitialized()}, one read of a static field), so that an application that
 * never records does not initialise JFR's metadata (about 100 ms of CPU); then it creates the event
 * and asks {@link Event#shouldCommit()} before computing any field.
 */
final class JournalEvents {
  private JournalEvents() {}

  /** An entry of journal {@code journal} failed for good after its last run threw {@code t}. */
  static void entryFailed(String journal, Entry entry, Throwable t) {
    if (!FlightRecorder.isInitialized()) return;
    EntryFailed e = new EntryFailed();
    if (!e.shouldCommit()) return;
    e.journal = journal;
    e.kind = entry.kind();
    e.key = entry.key();
    e.attempts = entry.attempt();
    e.exceptionClass = t.getClass().getName();
    e.message = t.getMessage();
    e.commit();
  }

  @Name("dev.lifespan.jdbc.EntryFailed")
  @Label("Journal Entry Failed")
  @Category("Lifespan")
  @Description(
      "An entry of a journal failed for good: its handler failed as many times as its kind allows;"
          + " the entry is marked FAILED and reported once")
  @StackTrace(false) // the entry thread's last frames; the exception's own trace is what matters
  static final class EntryFailed extends Event {
    @Label("Journal")
    String journal;

    @Label("Kind")
    String kind;

    @Label("Key")
    String key;

    @Label("Attempts")
    @Description("How many times the entry was claimed, including runs lost to a crash or shutdown")
    int attempts;

    @Label("Exception Class")
    String exceptionClass;

    @Label("Message")
    String message;
  }
}
