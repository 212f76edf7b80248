/**
 * JUnit Jupiter support for testing code that runs threads: {@link dev.lifespan.test.NoLeaks} fails
 * a test that leaves threads running.
 */
package dev.lifespan.test;
