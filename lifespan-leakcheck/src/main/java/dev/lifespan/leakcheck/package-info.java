/**
 * A JUnit Jupiter extension, {@link dev.lifespan.leakcheck.NoLeaksExtension}, that fails a test
 * which leaves threads running.
 */
package dev.lifespan.leakcheck;
