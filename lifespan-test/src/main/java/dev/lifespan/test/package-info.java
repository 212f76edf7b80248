/**
 * Test support for users of Lifespan: {@link dev.lifespan.test.NoLeaks @NoLeaks} applies the
 * leak-checking extension, which fails a test that leaves threads running; {@link
 * dev.lifespan.test.FakeClock} runs an application on a clock that moves only when the test says,
 * so that its shutdown is tested as a timeline.
 */
package dev.lifespan.test;
