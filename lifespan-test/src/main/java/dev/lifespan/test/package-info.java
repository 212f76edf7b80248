/**
 * Test support for users of Lifespan: {@link dev.lifespan.test.NoLeaks @NoLeaks} applies the
 * leak-checking extension, which fails a test that leaves threads running.
 */
package dev.lifespan.test;
